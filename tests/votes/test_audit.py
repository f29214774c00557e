"""Changing a draft's choices and recounting a held vote leave one audit row each, naming
the vote by its public id and the officer who did it; refused or repeated clicks none."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from tests.factories import MemberFactory
from tests.votes.conftest import add_tellers, close_now, give_sheets
from union.models import AuditEvent
from votes.audit import VoteAction
from votes.models import VoteKind, VoteStatus
from votes.services import assembly, counting, drafting

pytestmark = pytest.mark.django_db


def _rows(vote, action) -> list[tuple[str, int | None, int | None]]:
    events = AuditEvent.objects.filter(action=action).order_by("id")
    return [
        (e.target, e.actor_id, e.branch_id)
        for e in events
        if e.target.endswith(str(vote.public_id))
    ]


def _draft(secretary, bamako):
    now = timezone.now()
    return drafting.create_vote(
        actor=secretary.user,
        spec=drafting.VoteSpec(
            kind=VoteKind.SINGLE,
            title="Drop-in centre",
            text="",
            branch=bamako,
            opens_at=now + timedelta(days=1),
            closes_at=now + timedelta(days=8),
        ),
    )


def test_adding_and_removing_choices_leaves_one_row_each(secretary, bamako):
    vote = _draft(secretary, bamako)
    for label in ["Awa", "Fanta", "Mariam"]:
        drafting.add_option(actor=secretary.user, vote=vote, label=label)
    fanta = vote.options.get(label="Fanta")
    drafting.remove_option(actor=secretary.user, option=fanta)
    drafting.remove_option(actor=secretary.user, option=fanta)  # a second click

    row = (f"vote:{vote.public_id}", secretary.user.pk, bamako.pk)
    assert _rows(vote, VoteAction.OPTION_ADD) == [row] * 3
    assert _rows(vote, VoteAction.OPTION_REMOVE) == [row]
    assert list(vote.options.values_list("number", "label")) == [(1, "Awa"), (2, "Mariam")]


def test_refused_changes_to_choices_leave_no_row(secretary, other_secretary, bamako, national):
    vote = _draft(secretary, bamako)
    drafting.add_option(actor=secretary.user, vote=vote, label="Awa")
    with pytest.raises(PermissionDenied):  # another branch's secretary
        drafting.add_option(actor=other_secretary.user, vote=vote, label="Fanta")
    drafting.add_option(actor=secretary.user, vote=vote, label="Fanta")
    add_tellers(vote, national)
    give_sheets(vote)
    drafting.schedule_vote(actor=secretary.user, vote=vote)
    with pytest.raises(ValidationError, match="only change while the vote is a draft"):
        drafting.add_option(actor=secretary.user, vote=vote, label="Mariam")
    with pytest.raises(ValidationError, match="only change while the vote is a draft"):
        drafting.remove_option(actor=secretary.user, option=vote.options.first())
    assert len(_rows(vote, VoteAction.OPTION_ADD)) == 2
    assert _rows(vote, VoteAction.OPTION_REMOVE) == []


def test_each_recount_of_a_held_vote_leaves_a_row_a_counted_vote_none(
    make_vote, bamako, secretary, treasurer, member
):
    voter = MemberFactory(branch=bamako)
    vote = make_vote(VoteKind.SINGLE, options=["Awa", "Fanta"])
    assembly.check_in(actor=secretary.user, vote=vote, number=voter.number, channel="paper")
    close_now(vote)
    counting.claim_due_closures()
    assert counting.count_vote(vote.pk) == VoteStatus.HELD  # the paper is not counted yet

    with pytest.raises(PermissionDenied):  # a member who does not run the vote
        counting.recount_vote(actor=member.user, vote=vote)
    assert counting.recount_vote(actor=secretary.user, vote=vote) == VoteStatus.HELD
    for officer in (secretary, treasurer):  # the late paper count, entered twice alike
        assembly.enter_tally(
            actor=officer.user, vote=vote, branch=bamako, ballots=1, counts={"1": 1, "2": 0}
        )
    assert counting.recount_vote(actor=secretary.user, vote=vote) == VoteStatus.PUBLISHED
    assert counting.recount_vote(actor=secretary.user, vote=vote) == VoteStatus.PUBLISHED

    row = (f"vote:{vote.public_id}", secretary.user.pk, bamako.pk)
    assert _rows(vote, VoteAction.RECOUNT) == [row, row]
