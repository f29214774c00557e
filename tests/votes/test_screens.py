"""The vote screens: the member's ballot, review and receipt; who may see which screen."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests.conftest import sign_in
from tests.votes.conftest import close_now, count_now, open_box
from union.models import AuditEvent
from votes import tasks
from votes.models import Ballot, BallotChannel, SealedBallot, VoteKind, VoteMark, VoteStatus
from votes.services import casting

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def _status(client, url: str) -> int:
    """The final status: a 404 may first be redirected to a language-prefixed address
    (the public site's i18n patterns), which then answers 404 as well."""
    response = client.get(url)
    if response.status_code == 302 and response["Location"].startswith("/en/"):
        return client.get(response["Location"]).status_code
    return response.status_code


def _code(response) -> str:
    match = re.search(r'id="receipt-code">([A-Z0-9-]+)<', response.content.decode())
    assert match, response.content.decode()[:2000]
    return match.group(1)


def test_ranked_ballot_review_then_cast(client, make_vote, member):
    vote = make_vote()
    url = reverse("votes:detail", args=[vote.public_id])
    sign_in(client, member)
    page = client.get(url)
    assert page["Cache-Control"].startswith("no-cache") or "no-store" in page["Cache-Control"]
    assert 'name="rank_1"' in page.content.decode()
    review = client.post(url, {"step": "review", "rank_1": "3", "rank_2": "", "rank_3": "1"})
    body = review.content.decode()
    assert "Check your vote" in body and 'value="3,1"' in body
    assert not SealedBallot.objects.exists()  # nothing is stored before the final submit
    done = client.post(url, {"step": "cast", "choices": "3,1"})
    code = _code(done)
    assert SealedBallot.objects.count() == 1 and not Ballot.objects.exists()
    # A replay of the final POST (back button, double tap) records nothing more.
    again = client.post(url, {"step": "cast", "choices": "3,1"})
    assert "already voted" in again.content.decode()
    assert SealedBallot.objects.count() == 1
    close_now(vote)
    tasks.run_vote_clock()
    open_box(vote)
    assert Ballot.objects.get().choices == [3, 1]
    found = client.post(reverse("votes:ballots", args=[vote.public_id]), {"code": code.lower()})
    assert 'id="found-ballot"' in found.content.decode()


@pytest.mark.parametrize(
    "data",
    [
        {"step": "review", "rank_1": "1", "rank_2": "1"},
        {"step": "review", "rank_1": "99"},
        {"step": "review", "rank_2": "1"},
        {"step": "cast", "choices": "1,1"},
        {"step": "cast", "choices": "7"},
        {"step": "cast", "choices": "x"},
    ],
)
def test_bad_or_tampered_ballots_show_an_error_and_store_nothing(client, make_vote, member, data):
    vote = make_vote()
    sign_in(client, member)
    response = client.post(reverse("votes:detail", args=[vote.public_id]), data)
    assert response.status_code == 200
    assert 'role="alert"' in response.content.decode()
    assert not SealedBallot.objects.exists() and not VoteMark.objects.exists()


def test_motion_ballot_in_french(french, make_vote, member):
    vote = make_vote(VoteKind.MOTION)
    sign_in(french, member)
    body = french.get(reverse("votes:detail", args=[vote.public_id])).content.decode()
    assert "Pour" in body and "Contre" in body


def test_results_are_hidden_until_published(client, make_vote, member, secretary):
    vote = make_vote(options=["Awa", "Fanta", "Mariam"])
    casting.cast_ballot(vote=vote, member=secretary, choices=[2])
    sign_in(client, member)
    assert _status(client, reverse("votes:results", args=[vote.public_id])) == 404
    # The list of ballots shows the sealed ballot by its fingerprint, nothing readable.
    box = client.get(reverse("votes:ballots", args=[vote.public_id])).content.decode()
    assert "ballot box is sealed" in box
    assert box.count("<li><code>") == 1
    assert "Fanta" not in box and "Mariam" not in box


def test_a_motion_without_quorum_is_shown_as_no_decision_not_as_rejected(
    client, make_vote, member, bamako
):
    # Most of those who voted were for it: "rejected" would tell them they lost.
    vote = make_vote(VoteKind.MOTION, quorum_percent=90)
    casting.cast_ballot(vote=vote, member=member, choices=[1])
    count_now(vote)
    sign_in(client, member)
    body = client.get(reverse("votes:results", args=[vote.public_id])).content.decode()
    assert "No decision: too few members voted to reach the quorum." in body
    assert "The motion is not carried." not in body


def test_assisted_voting_the_officer_never_sees_the_choice(client, make_vote, member, secretary):
    vote = make_vote()
    sign_in(client, secretary)
    assembly = reverse("votes:office_assembly", args=[vote.public_id])
    response = client.post(
        assembly, {"action": "check_in", "number": member.number, "channel": "assisted"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("votes:kiosk")
    kiosk = reverse("votes:kiosk")
    client.post(kiosk, {"step": "review", "rank_1": "2"})
    done = client.post(kiosk, {"step": "cast", "choices": "2"})
    _code(done)
    mark = VoteMark.objects.get(member=member)
    assert mark.channel == BallotChannel.ASSISTED and mark.officer == secretary.user
    # Back on the officer's device: the pass is spent; the review cannot be shown again.
    after = client.post(kiosk, {"step": "review", "rank_1": "2"})
    assert "No ballot is waiting" in after.content.decode()
    voters = client.get(reverse("votes:office_voters", args=[vote.public_id])).content.decode()
    assert member.working_name in voters and "Fanta" not in voters
    assert AuditEvent.objects.filter(action="vote.marks").exists()


VOTE_SCREENS = ["votes:office_detail", "votes:office_voters", "votes:office_assembly"]


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("member", 403),
        ("crisis_responder", 403),
        ("other_secretary", 404),
        ("ended_secretary", 403),
        ("secretary", 200),
        ("national_coordinator", 200),
    ],
)
def test_office_vote_screens_access_matrix(client, request, make_vote, persona, expected):
    vote = make_vote()
    sign_in(client, request.getfixturevalue(persona))
    for name in VOTE_SCREENS:
        status = _status(client, reverse(name, args=[vote.public_id]))
        assert status == expected, (name, status)
    assert client.get(reverse("votes:office_list")).status_code in (expected, 200)


def test_treasurer_runs_assemblies_but_not_votes(client, make_vote, treasurer):
    vote = make_vote()
    sign_in(client, treasurer)
    assert client.get(reverse("votes:office_assembly", args=[vote.public_id])).status_code == 200
    assert client.get(reverse("votes:office_detail", args=[vote.public_id])).status_code == 403
    assert client.get(reverse("votes:office_new")).status_code == 403


def test_member_screens_need_a_login_and_the_branch(client, make_vote, other_secretary, segou):
    vote = make_vote()
    url = reverse("votes:detail", args=[vote.public_id])
    assert client.get(url).status_code == 302  # to the login page
    sign_in(client, other_secretary)  # a member of Ségou
    assert _status(client, url) == 404


def _make_and_confirm_sheet(client, vote) -> list[str]:
    """A teller, signed in on `client`, makes their key sheet and types it back."""
    url = reverse("votes:key_sheet", args=[vote.public_id])
    page = client.post(url, {"action": "make"}).content.decode()
    sheet = page[page.index('id="sheet-words"') :]
    words = re.findall(r"<li><strong>([^<]+)</strong></li>", sheet[: sheet.index("</ol>")])
    assert len(words) == 12
    assert "sheet-words" not in client.get(url).content.decode()  # shown once only
    client.post(url, {"action": "confirm", "words": " ".join(words)})
    return words


def test_officer_creates_an_election_and_schedules_it_once_every_teller_has_a_sheet(
    client, secretary, bamako, national
):
    from django.test import Client

    from tests.factories import MemberFactory
    from votes.models import Vote

    sign_in(client, secretary)
    response = client.post(
        reverse("votes:office_new"),
        {
            "kind": "election",
            "title": "Branch board",
            "text": "",
            "branch": bamako.pk,
            "seats": 2,
            "threshold": "simple",
            "quorum_percent": 10,
            "opens_at": "2030-01-01T09:00",
            "closes_at": "2030-01-08T09:00",
            "shares_needed": "2",
        },
    )
    assert response.status_code == 302
    detail = response["Location"]
    for name in ["Awa", "Fanta", "Mariam"]:
        client.post(detail, {"action": "add_option", "label": name, "statement": ""})
    vote = Vote.objects.get(title="Branch board")
    assert [t.member for t in vote.tellers.all()] == [secretary]  # the first teller
    others = MemberFactory.create_batch(2, branch=national, with_login=True)
    for person in others:
        client.post(detail, {"action": "add_teller", "member_number": person.number.lower()})
    page = client.post(detail, {"action": "schedule"}, follow=True).content.decode()
    assert "Every teller must make their key sheet and confirm it." in page
    vote.refresh_from_db()
    assert vote.status == VoteStatus.DRAFT

    _make_and_confirm_sheet(client, vote)
    for person in others:
        teller_client = Client()
        sign_in(teller_client, person)
        _make_and_confirm_sheet(teller_client, vote)
    assert vote.tellers.filter(confirmed_at__isnull=False).count() == 3
    client.post(detail, {"action": "schedule"})
    vote.refresh_from_db()
    assert vote.status == VoteStatus.SCHEDULED
    assert list(vote.options.values_list("label", flat=True)) == ["Awa", "Fanta", "Mariam"]


def test_other_branch_secretary_cannot_create_a_vote_for_bamako(client, other_secretary, bamako):
    sign_in(client, other_secretary)
    response = client.post(
        reverse("votes:office_new"),
        {
            "kind": "single",
            "title": "x",
            "branch": bamako.pk,
            "seats": 1,
            "threshold": "simple",
            "quorum_percent": 0,
            "opens_at": "2030-01-01T09:00",
            "closes_at": "2030-01-08T09:00",
        },
    )
    assert response.status_code == 200  # the form again: Bamako is not a choice
    from votes.models import Vote

    assert not Vote.objects.exists()


def test_one_vote_is_found_by_the_same_rule_as_the_list(
    make_vote, member, national_coordinator, national, segou, other_secretary
):
    """selectors.visible_vote (written out in SQL, it runs on every ballot step) and
    votes_for_member (the list) must agree, for every status and scope, and on the roll
    and voted marks."""
    from union.models import Member
    from votes import selectors
    from votes.models import Vote
    from votes.services import casting

    ours = make_vote(title="Ours")
    make_vote(title="Nationale", branch=national, officer=national_coordinator)
    make_vote(title="Segou", branch=segou, officer=other_secretary)
    casting.cast_ballot(vote=ours, member=member, choices=[1])
    for status in VoteStatus.values:
        Vote.objects.filter(pk=make_vote(title=status).pk).update(status=status)
    for person in (member, other_secretary):
        person = Member.objects.get(pk=person.pk)
        listed = selectors.votes_for_member(person)
        expected = {v.pk: (bool(v.on_roll), bool(v.voted)) for v in listed}
        found = {}
        for vote in Vote.objects.all():
            one = selectors.visible_vote(person, vote.public_id)
            if one is not None:
                found[one.pk] = (bool(one.on_roll), bool(one.voted))
        assert found == expected
        assert len(expected) >= 2
    assert selectors.visible_vote(member, ours.public_id).voted


def test_a_fixed_votes_choices_are_read_once_a_draft_s_every_time(client, make_vote, member):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from votes import selectors
    from votes.models import Vote, VoteOption

    vote = make_vote()
    sign_in(client, member)
    url = reverse("votes:detail", args=[vote.public_id])
    assert client.get(url).status_code == 200  # the ballot: choices read once here
    with CaptureQueriesContext(connection) as queries:
        page = client.post(url, {"step": "review", "rank_1": "2"}).content.decode()
    options_table = VoteOption._meta.db_table
    assert options_table not in " ".join(q["sql"] for q in queries.captured_queries)
    assert vote.options.get(number=2).label in page

    draft = make_vote(title="Draft")
    Vote.objects.filter(pk=draft.pk).update(status=VoteStatus.DRAFT)
    draft.refresh_from_db()
    for _ in range(2):
        with CaptureQueriesContext(connection) as queries:
            selectors.load_options(draft)
            assert len(draft.options.all()) >= 2
        assert len(queries) == 1
        del draft._prefetched_objects_cache
