"""Forms for votes. Validation only: writes go through votes.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from union.forms import DateInput
from union.models import Branch, Role
from votes.models import BallotChannel, Threshold, Vote, VoteKind
from votes.services.casting import parse_choices

ORDINALS = {
    1: _("1st choice"),
    2: _("2nd choice"),
    3: _("3rd choice"),
}


def ordinal(n: int) -> str:
    if n in ORDINALS:
        return str(ORDINALS[n])
    return str(_("Choice number %(n)s") % {"n": n})


def _branch_field(form: forms.Form) -> forms.ModelChoiceField[Branch]:
    field = form.fields["branch"]
    assert isinstance(field, forms.ModelChoiceField)  # noqa: S101 - declared on the class
    return field


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def format_value(self, value: Any) -> Any:
        return value.strftime("%Y-%m-%dT%H:%M") if hasattr(value, "strftime") else value


class VoteForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind of vote"), choices=VoteKind.choices, widget=forms.RadioSelect
    )
    title = forms.CharField(label=_("Title"), max_length=200)
    text = forms.CharField(
        label=_("Text put to the vote"), widget=forms.Textarea(attrs={"rows": 5}), required=False
    )
    branch = forms.ModelChoiceField(
        label=_("Who votes"), queryset=Branch.objects.none(), empty_label=None
    )
    seats = forms.IntegerField(
        label=_("Seats to fill"),
        min_value=1,
        max_value=50,
        initial=1,
        help_text=_("Elections and approval votes only."),
    )
    threshold = forms.ChoiceField(
        label=_("Majority needed (motions)"),
        choices=Threshold.choices,
        initial=Threshold.SIMPLE,
        widget=forms.RadioSelect,
    )
    quorum_percent = forms.IntegerField(
        label=_("Quorum: minimum turnout, in % of eligible members"),
        min_value=0,
        max_value=100,
        initial=0,
    )
    opens_at = forms.DateTimeField(label=_("Opens"), widget=DateTimeInput)
    closes_at = forms.DateTimeField(label=_("Closes"), widget=DateTimeInput)
    role = forms.ChoiceField(
        label=_("Role of the elected (elections, optional)"),
        choices=[("", "—"), *Role.choices],
        required=False,
    )
    term_starts_on = forms.DateField(label=_("Term starts"), required=False, widget=DateInput())
    term_ends_on = forms.DateField(label=_("Term ends"), required=False, widget=DateInput())
    shares_needed = forms.IntegerField(
        label=_("Tellers' key sheets needed to open the ballot box at the count"),
        help_text=_(
            "You choose the tellers after creating the vote: at least one more than this "
            "number, so that a lost sheet does not stop the count."
        ),
        min_value=2,
        max_value=8,
        initial=2,
        required=False,  # blank: 2
    )

    def clean_shares_needed(self) -> int:
        return self.cleaned_data.get("shares_needed") or 2

    def __init__(self, *args: Any, branches: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _branch_field(self).queryset = branches


class OptionForm(forms.Form):
    label = forms.CharField(label=_("Name of the candidate, or the choice"), max_length=100)
    statement = forms.CharField(
        label=_("Short statement (optional)"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    member_number = forms.CharField(
        label=_("Membership number of the candidate (optional)"),
        help_text=_("Needed to turn the result into a role."),
        max_length=20,
        required=False,
    )


class BallotForm(forms.Form):
    """The ballot of one vote. Ranked ballots have one select per place: no drag and drop,
    no JavaScript. Unknown or tampered values fail here or in casting.parse_choices."""

    def __init__(self, *args: Any, vote: Vote, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.vote = vote
        self.options = list(vote.options.all())  # in number order (Meta.ordering)
        choices = [(str(o.number), o.label) for o in self.options]
        if vote.kind in (VoteKind.MOTION, VoteKind.SINGLE):
            labels = {
                "1": _("For"),
                "2": _("Against"),
                "3": _("Abstain"),
            }
            if vote.kind == VoteKind.MOTION:
                choices = [(n, str(labels.get(n, label))) for n, label in choices]
            self.fields["choice"] = forms.ChoiceField(
                label=_("Your answer"), choices=choices, widget=forms.RadioSelect
            )
        elif vote.kind == VoteKind.APPROVAL:
            self.fields["choices"] = forms.MultipleChoiceField(
                label=ngettext(
                    "Choose everyone you approve of (%(seats)s seat)",
                    "Choose everyone you approve of (%(seats)s seats)",
                    vote.seats,
                )
                % {"seats": vote.seats},
                choices=choices,
                required=False,
                widget=forms.CheckboxSelectMultiple,
            )
        else:
            blank: list[tuple[str, str]] = [("", str(_("— no choice —")))]
            for place in range(1, len(self.options) + 1):
                self.fields[f"rank_{place}"] = forms.ChoiceField(
                    label=ordinal(place), choices=blank + choices, required=place == 1
                )
            self.fields["rank_1"].error_messages["required"] = _(
                "Choose at least your first choice."
            )

    def raw_choices(self) -> list[str]:
        data = self.cleaned_data
        if "choice" in self.fields:
            return [data["choice"]]
        if "choices" in self.fields:
            return list(data["choices"])
        # Empty places are skipped: "1st: A, 2nd: -, 3rd: B" is the ranking A, B.
        places = [data.get(f"rank_{n}") or "" for n in range(1, len(self.options) + 1)]
        return [p for p in places if p]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors:
            try:
                data["parsed"] = parse_choices(self.vote, self.raw_choices())
            except ValidationError as exc:
                self.add_error(None, exc)
        return data


def ballot_data(vote: Vote, choices: list[int]) -> dict[str, str | list[str]]:
    """Form data that fills a BallotForm with these choices (for "change my answer")."""
    if vote.kind in (VoteKind.MOTION, VoteKind.SINGLE):
        return {"choice": str(choices[0])}
    if vote.kind == VoteKind.APPROVAL:
        return {"choices": [str(c) for c in choices]}
    return {f"rank_{i}": str(c) for i, c in enumerate(choices, start=1)}


class CheckInForm(forms.Form):
    number = forms.CharField(label=_("Membership number"), max_length=20)
    channel = forms.ChoiceField(
        label=_("How the member votes"),
        choices=[
            (BallotChannel.ASSISTED, _("On this device, now (you hand it over)")),
            (BallotChannel.PAPER, _("On a paper ballot")),
        ],
        initial=BallotChannel.ASSISTED,
        widget=forms.RadioSelect,
    )


class TallyForm(forms.Form):
    """A branch's paper count. Elections: one line per pile of identical ballots,
    "how many: 1st 2nd 3rd..." with candidate numbers, e.g. "12: 3 1 2"."""

    branch = forms.ModelChoiceField(
        label=_("Branch"), queryset=Branch.objects.none(), empty_label=None
    )
    ballots = forms.IntegerField(label=_("Valid paper ballots counted"), min_value=0)

    def __init__(self, *args: Any, vote: Vote, branches: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.vote = vote
        _branch_field(self).queryset = branches
        if vote.kind == VoteKind.ELECTION:
            self.fields["piles"] = forms.CharField(
                label=_("Ballots by ranking, one line each: how many, then candidate numbers"),
                help_text=_(
                    'For example "12: 3 1 2" is 12 ballots ranking 3 first, then 1, then 2.'
                ),
                widget=forms.Textarea(attrs={"rows": 6}),
            )
        else:
            for option in vote.options.order_by("number"):
                self.fields[f"option_{option.number}"] = forms.IntegerField(
                    label=option.label, min_value=0, initial=0
                )

    def counts(self) -> Any:
        data = self.cleaned_data
        if self.vote.kind != VoteKind.ELECTION:
            return {
                name.removeprefix("option_"): value
                for name, value in data.items()
                if name.startswith("option_")
            }
        piles = []
        for line_no, line in enumerate(data["piles"].splitlines(), start=1):
            if not line.strip():
                continue
            count, sep, ranking = line.partition(":")
            try:
                piles.append([int(count), [int(x) for x in ranking.replace(",", " ").split()]])
            except ValueError:
                raise ValidationError(
                    _('Line %(n)s is not "how many: candidate numbers".') % {"n": line_no}
                ) from None
            if not sep:
                raise ValidationError(
                    _('Line %(n)s is not "how many: candidate numbers".') % {"n": line_no}
                )
        return piles


class ReceiptForm(forms.Form):
    code = forms.CharField(
        label=_("Your receipt code"),
        max_length=60,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )


# Typing 12 words is hard enough: no autocorrect, no capitals, no saved entries.
WORDS_ATTRS = {
    "rows": 3,
    "autocomplete": "off",
    "autocapitalize": "none",
    "autocorrect": "off",
    "spellcheck": "false",
}


class TellerForm(forms.Form):
    member_number = forms.CharField(label=_("Membership number of the teller"), max_length=20)


class KeySheetWordsForm(forms.Form):
    words = forms.CharField(
        label=_("The 12 words of your key sheet, in order"),
        widget=forms.Textarea(attrs=WORDS_ATTRS),
        max_length=400,
    )


class OpenBoxForm(forms.Form):
    """At the count: one field per teller, each typed by that teller. Blank ones are
    skipped; the vote says how many are needed."""

    def __init__(self, *args: Any, tellers: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for teller in tellers:
            self.fields[f"teller_{teller.number}"] = forms.CharField(
                label=_("Teller %(number)s, %(name)s: the 12 words of their sheet")
                % {"number": teller.number, "name": teller.member.working_name},
                required=False,
                max_length=400,
                widget=forms.Textarea(attrs=WORDS_ATTRS),
            )

    def sheets(self) -> dict[int, str]:
        return {
            int(name.removeprefix("teller_")): value
            for name, value in self.cleaned_data.items()
            if name.startswith("teller_")
        }
