"""Casting: one ballot per member, secret, receipts that verify, bad input refused."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError

from tests.factories import MemberFactory
from tests.votes.conftest import close_now, count_now
from votes import receipts
from votes.models import Ballot, SealedBallot, VoteKind, VoteMark, VoteRoll, VoteStatus
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
    assert not SealedBallot.objects.exists()


def test_second_submission_is_refused_and_stores_nothing(make_vote, member):
    vote = make_vote()
    code = casting.cast_ballot(vote=vote, member=member, choices=[2, 1])
    with pytest.raises(casting.AlreadyVoted):
        casting.cast_ballot(vote=vote, member=member, choices=[3])
    assert SealedBallot.objects.filter(vote=vote).count() == 1
    assert VoteMark.objects.filter(vote=vote).count() == 1
    key = receipts.receipt_key(code, bytes(vote.receipt_salt))
    assert SealedBallot.objects.get().lookup == receipts.sealed_lookup(key)
    assert not Ballot.objects.exists()


def test_receipt_code_is_short_without_look_alikes_and_stored_only_as_a_slow_hash():
    import math

    code = receipts.new_code()
    assert len(code) == 12 and not receipts.has_look_alikes(code)
    assert len(code) * math.log2(len(receipts.ALPHABET)) >= 59
    assert re.fullmatch(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", receipts.display(code))
    salt = b"0123456789abcdef"
    typed = receipts.display(code).lower().replace("-", " ")
    assert receipts.receipt_key(typed, salt) == receipts.receipt_key(code, salt)
    assert receipts.receipt_key(code, b"another vote 123") != receipts.receipt_key(code, salt)
    key = receipts.receipt_key(code, salt)
    # Two different hashes of one slow key: the sealed side and the counted side never meet.
    assert receipts.sealed_lookup(key) != receipts.counted_hash(key)
    assert code not in receipts.sealed_lookup(key) + receipts.counted_hash(key)


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
    assert not SealedBallot.objects.exists()


def test_a_vote_outside_the_members_scope_is_refused(make_vote, other_secretary, segou, member):
    vote = make_vote(branch=segou, officer=other_secretary)
    with pytest.raises(ValidationError, match="not on the list"):
        casting.cast_ballot(vote=vote, member=member, choices=[1])
    assert not SealedBallot.objects.exists()


def test_nothing_is_accepted_after_close(make_vote, member):
    vote = make_vote()
    close_now(vote)
    with pytest.raises(ValidationError, match="not open"):
        casting.cast_ballot(vote=vote, member=member, choices=[1])
    counting.claim_due_closures()
    vote.refresh_from_db()
    assert vote.status == VoteStatus.COUNTING  # an empty box: nothing for the tellers
    with pytest.raises(ValidationError, match="not open"):
        casting.cast_ballot(vote=vote, member=member, choices=[1])
    assert not SealedBallot.objects.exists()


def test_approval_ballots_are_stored_sorted_and_may_be_empty(make_vote, member, secretary):
    vote = make_vote(VoteKind.APPROVAL, seats=1)
    casting.cast_ballot(vote=vote, member=member, choices=[3, 1])
    casting.cast_ballot(vote=vote, member=secretary, choices=[])
    assert count_now(vote) == VoteStatus.PUBLISHED
    assert sorted(map(tuple, Ballot.objects.values_list("choices", flat=True))) == [(), (1, 3)]
