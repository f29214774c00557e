"""A held vote's reason is stored as codes and figures (Vote.held_problems), worded in the
reader's language when shown (votes.results.describe_problem), instead of an English
sentence.

The English reasons already stored came from one function with four fixed wordings; each
is read back into its code here, once, so that the screens have one way to show a reason.
A part that matches none of them (the old field cut reasons at 200 characters) is kept as
it was, as text, and shown as it was.
"""

import re

from django.db import migrations, models

OLD_WORDINGS = [
    (re.compile(r"(?P<ballots>\d+) ballots for (?P<marks>\d+) voted marks"), "ballots_marks"),
    (
        re.compile(r"(?P<ballots>\d+) sealed ballots that do not open to a valid ballot"),
        "sealed_unopened",
    ),
    (
        re.compile(r"(?P<branch>.+): (?P<given_out>\d+) paper ballots given out, no confirmed tally"),
        "paper_no_tally",
    ),
    (
        re.compile(
            r"(?P<branch>.+): (?P<counted>\d+) paper ballots counted, (?P<given_out>\d+) given out"
        ),
        "paper_over",
    ),
]
NEW_WORDINGS = {
    "ballots_marks": "{ballots} ballots for {marks} voted marks",
    "sealed_unopened": "{ballots} sealed ballots that do not open to a valid ballot",
    "paper_no_tally": "{branch}: {given_out} paper ballots given out, no confirmed tally",
    "paper_over": "{branch}: {counted} paper ballots counted, {given_out} given out",
}


def problem_from_text(text):
    for wording, code in OLD_WORDINGS:
        match = wording.fullmatch(text)
        if match:
            return {
                "code": code,
                **{k: v if k == "branch" else int(v) for k, v in match.groupdict().items()},
            }
    return {"code": "text", "text": text}


def problems_from_reason(reason):
    return [problem_from_text(part) for part in reason.split("; ") if part]


def codes_from_texts(apps, schema_editor):
    Vote = apps.get_model("votes", "Vote")
    for vote in Vote.objects.exclude(held_reason="").only("pk", "held_reason"):
        Vote.objects.filter(pk=vote.pk).update(
            held_problems=problems_from_reason(vote.held_reason)
        )


def texts_from_codes(apps, schema_editor):
    Vote = apps.get_model("votes", "Vote")
    for vote in Vote.objects.exclude(held_problems=[]).only("pk", "held_problems"):
        parts = [
            NEW_WORDINGS[p["code"]].format(**p) if p["code"] in NEW_WORDINGS else p.get("text", "")
            for p in vote.held_problems
        ]
        Vote.objects.filter(pk=vote.pk).update(held_reason="; ".join(parts)[:200])


class Migration(migrations.Migration):
    dependencies = [
        ("votes", "0004_one_ballot_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="vote",
            name="held_problems",
            field=models.JSONField(blank=True, default=list, editable=False),
        ),
        migrations.RunPython(codes_from_texts, texts_from_codes),
        migrations.RemoveField(
            model_name="vote",
            name="held_reason",
        ),
    ]
