"""Casting: one ballot per member, secret, receipts that verify, bad input refused."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from tests.factories import MemberFactory
from tests.votes.conftest import close_now
from votes import receipts
from votes.models import Ballot, VoteKind, VoteMark, VoteRoll, VoteStatus
from votes.services import casting, counting

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def test_roll_is_frozen_at_opening(make_vote, member, bamako, segou, applicant):
    MemberFactory(branch=segou)  # another branch: not on a BKO roll
    vote = make_vote()
    assert VoteRoll.objects.filter(vote=vote, member=member).exists()
    assert not VoteRoll.objects.filter(vote=vote, member=applicant).exists()
    late = MemberFactory(branch=bamako)  # joins after the vote opened
    with pytest.raises(ValidationError, match="not on the list"):
        casting.cast_ballot(vote=vote, member=late, choices=[1])
    assert vote.eligible_count == VoteRoll.objects.filter(vote=vote).count()
    assert not Ballot.objects.exists()


def test_second_submission_is_refused_and_stores_nothing(make_vote, member):
    vote = make_vote()
    code = casting.cast_ballot(vote=vote, member=member, choices=[2, 1])
    with pytest.raises(casting.AlreadyVoted):
        casting.cast_ballot(vote=vote, member=member, choices=[3])
    assert Ballot.objects.filter(vote=vote).count() == 1
    assert VoteMark.objects.filter(vote=vote).count() == 1
    assert Ballot.objects.get().receipt_hash == receipts.receipt_hash(code)


def test_receipt_code_has_at_least_128_bits_and_is_not_stored():
    import math

    code = receipts.new_code()
    assert len(code) * math.log2(len(receipts.ALPHABET)) >= 128
    assert receipts.receipt_hash(receipts.display(code).lower()) == receipts.receipt_hash(code)


@pytest.mark.parametrize(
    ("kind", "choices", "message"),
    [
        (VoteKind.ELECTION, [1, 1], "same candidate twice"),
        (VoteKind.ELECTION, [1, 9], "not on it"),
        (VoteKind.ELECTION, ["x"], "not on it"),
        (VoteKind.ELECTION, [], "first choice"),
        (VoteKind.MOTION, [1, 2], "one answer"),
        (VoteKind.SINGLE, [4], "not on it"),
        (VoteKind.APPROVAL, [2, 2], "same candidate twice"),
    ],
)
def test_bad_ballots_are_refused_and_nothing_is_stored(make_vote, member, kind, choices, message):
    vote = make_vote(kind)
    with pytest.raises(ValidationError, match=message):
        casting.cast_ballot(vote=vote, member=member, choices=choices)
    assert not VoteMark.objects.exists()
    assert not Ballot.objects.exists()


def test_a_vote_outside_the_members_scope_is_refused(make_vote, other_secretary, segou, member):
    vote = make_vote(branch=segou, officer=other_secretary)
    with pytest.raises(ValidationError, match="not on the list"):
        casting.cast_ballot(vote=vote, member=member, choices=[1])
    assert not Ballot.objects.exists()


def test_nothing_is_accepted_after_close(make_vote, member):
    vote = make_vote()
    close_now(vote)
    with pytest.raises(ValidationError, match="not open"):
        casting.cast_ballot(vote=vote, member=member, choices=[1])
    counting.claim_due_closures()
    vote.refresh_from_db()
    assert vote.status == VoteStatus.COUNTING
    with pytest.raises(ValidationError, match="not open"):
        casting.cast_ballot(vote=vote, member=member, choices=[1])
    assert not Ballot.objects.exists()


def test_approval_ballots_are_stored_sorted_and_may_be_empty(make_vote, member, secretary):
    vote = make_vote(VoteKind.APPROVAL, seats=1)
    casting.cast_ballot(vote=vote, member=member, choices=[3, 1])
    casting.cast_ballot(vote=vote, member=secretary, choices=[])
    assert sorted(map(tuple, Ballot.objects.values_list("choices", flat=True))) == [(), (1, 3)]
