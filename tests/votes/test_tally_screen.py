"""The paper-tally screen at an assembly: two officers must enter the same numbers.

The Bamako secretary and treasurer hand out paper ballots, then each counts them and
enters the totals on the assembly page. Different numbers confirm nothing and say so;
the same numbers confirm the branch's tally, which then joins the published result.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import sign_in
from tests.factories import MemberFactory
from tests.votes.conftest import close_now
from votes import tasks
from votes.models import BranchTally, TallyEntry, Vote, VoteKind, VoteStatus

pytestmark = pytest.mark.django_db

SAVED = "Saved. A second officer must now enter the same numbers."
DIFFER = "Your numbers differ from the other officer&#x27;s. Count again, both of you."
AGREE = "Both counts agree: the paper ballots join the result."


def _officer(member: Any) -> Client:
    return sign_in(Client(), member)


def _hand_out_paper(client: Client, vote: Vote, members: list[Any]) -> None:
    url = reverse("votes:office_assembly", args=[vote.public_id])
    for person in members:
        response = client.post(
            url, {"action": "check_in", "number": person.number, "channel": "paper"}, follow=True
        )
        assert f"{person.working_name} may take a paper ballot." in response.content.decode()


def _enter(client: Client, vote: Vote, branch: Any, ballots: int, **counts: Any) -> str:
    data = {"action": "tally", "branch": branch.pk, "ballots": ballots, **counts}
    url = reverse("votes:office_assembly", args=[vote.public_id])
    return client.post(url, data, follow=True).content.decode()


def test_two_officers_must_enter_the_same_numbers_before_paper_ballots_count(
    make_vote, bamako, secretary, treasurer, django_capture_on_commit_callbacks
):
    voters = MemberFactory.create_batch(3, branch=bamako)
    vote = make_vote(VoteKind.MOTION, threshold="simple", title="Drop-in centre")
    sec, tre = _officer(secretary), _officer(treasurer)
    _hand_out_paper(sec, vote, voters)
    page = sec.get(reverse("votes:office_assembly", args=[vote.public_id])).content.decode()
    assert "3 paper ballots given out." in page
    assert "No count entered yet." in page

    # The secretary counts: 2 for, 1 against. Alone, that confirms nothing, even twice.
    for _ in range(2):
        page = _enter(sec, vote, bamako, 3, option_1=2, option_2=1, option_3=0)
        assert SAVED in page
        assert "You entered a count. A second officer must now enter the same numbers." in page
    assert not BranchTally.objects.filter(vote=vote).exists()

    # The treasurer sees that a count is waiting, but not its numbers.
    page = tre.get(reverse("votes:office_assembly", args=[vote.public_id])).content.decode()
    assert "One officer entered a count." in page
    assert 'name="option_1" value="0"' in page

    # Different numbers: refused with the reason, nothing confirmed, both must recount.
    page = _enter(tre, vote, bamako, 3, option_1=1, option_2=2, option_3=0)
    assert DIFFER in page
    assert "The counts entered differ. Count again and enter the numbers again." in page
    assert not BranchTally.objects.filter(vote=vote).exists()
    assert TallyEntry.objects.filter(vote=vote).count() == 2

    # The same numbers: confirmed, and the branch's count can no longer be entered.
    page = _enter(tre, vote, bamako, 3, option_1=2, option_2=1, option_3=0)
    assert AGREE in page
    assert "Confirmed by two officers: 3 ballots counted." in page
    assert 'name="ballots"' not in page
    tally = BranchTally.objects.get(vote=vote, branch=bamako)
    assert (tally.ballots, tally.counts) == (3, {"1": 2, "2": 1, "3": 0})

    # A late entry (a stale page, a replay) changes nothing.
    page = _enter(sec, vote, bamako, 3, option_1=3, option_2=0, option_3=0)
    assert "This branch&#x27;s paper ballots are already confirmed." in page
    assert BranchTally.objects.get(vote=vote, branch=bamako).counts == {"1": 2, "2": 1, "3": 0}

    close_now(vote)
    with django_capture_on_commit_callbacks(execute=True):  # the count is queued on commit
        tasks.run_vote_clock()
    vote.refresh_from_db()
    assert vote.status == VoteStatus.PUBLISHED, vote.held_problems
    assert vote.result["paper_ballots"] == 3
    assert [row["votes"] for row in vote.result["totals"]] == [2, 1, 0]


@pytest.mark.parametrize(
    ("ballots", "piles", "message"),
    [
        (3, "2 3 1\n1: 2", "Line 1 is not &quot;how many: candidate numbers&quot;."),
        (3, "2: 3 1\n1: 2 2", "These numbers do not add up."),  # a repeated candidate
        (4, "2: 3 1\n1: 2", "These numbers do not add up."),  # piles make 3, not 4
        (3, "2: 3 9\n1: 2", "These numbers do not add up."),  # no candidate 9
    ],
)
def test_election_tally_lines_that_do_not_add_up_are_refused_and_nothing_is_stored(
    make_vote, bamako, secretary, ballots, piles, message
):
    vote = make_vote(VoteKind.ELECTION)
    page = _enter(_officer(secretary), vote, bamako, ballots, piles=piles)
    assert message in page
    assert not TallyEntry.objects.filter(vote=vote).exists()


def test_election_piles_entered_alike_by_two_officers_join_the_count(
    make_vote, bamako, secretary, treasurer, django_capture_on_commit_callbacks
):
    voters = MemberFactory.create_batch(3, branch=bamako)
    vote = make_vote(VoteKind.ELECTION)
    sec, tre = _officer(secretary), _officer(treasurer)
    _hand_out_paper(sec, vote, voters)
    # Piles are written with candidate numbers, so the page shows which is which.
    page = sec.get(reverse("votes:office_assembly", args=[vote.public_id])).content.decode()
    assert '<li value="3">Mariam</li>' in page
    # The same piles, written in another order and spacing, are the same count.
    assert SAVED in _enter(sec, vote, bamako, 3, piles="2: 3 1\n1: 2")
    assert AGREE in _enter(tre, vote, bamako, 3, piles="1:2\n\n2: 3, 1")
    close_now(vote)
    with django_capture_on_commit_callbacks(execute=True):  # the count is queued on commit
        tasks.run_vote_clock()
    vote.refresh_from_db()
    assert vote.status == VoteStatus.PUBLISHED, vote.held_problems
    assert vote.result["paper_ballots"] == 3
    assert {row["label"]: row["votes"] for row in vote.result["totals"]} == {
        "Awa": 0,
        "Fanta": 1,
        "Mariam": 2,
    }
