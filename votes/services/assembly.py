"""An assembly: members checked in to vote on an officer's device or on paper, and the
branch's paper ballots counted by two officers who must agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from union import permissions
from union.models import Branch, Member
from union.permissions import Perm
from votes.audit import VoteAction
from votes.counting.profile import BallotError, check_ranking
from votes.models import (
    BallotChannel,
    BranchTally,
    TallyEntry,
    Vote,
    VoteKind,
    VoteMark,
    VoteRoll,
    VoteStatus,
)
from votes.services.casting import lock_open_vote, mark_voted
from votes.services.common import record_vote_access

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def check_in(*, actor: User, vote: Vote, number: str, channel: str) -> Member:
    """An officer at an assembly finds a member by number to vote on the officer's device
    (assisted) or on paper. A paper ballot is marked as voted now, since the paper
    itself cannot be tied to the member; an assisted one when the member submits it.
    """
    if channel not in (BallotChannel.ASSISTED, BallotChannel.PAPER):
        raise ValidationError(_("Choose how the member votes."))
    member = Member.objects.filter(number=number.strip().upper()).select_related("branch").first()
    if member is None or not permissions.has_perm(actor, Perm.RUN_ASSEMBLY, member.branch_id):
        raise ValidationError(_("No member with this number in your branches."))
    # The roll frozen at opening decides, whatever has happened to the member since.
    if not VoteRoll.objects.filter(vote=vote, member=member).exists():
        raise ValidationError(_("This member is not on the list of voters for this vote."))
    if VoteMark.objects.filter(vote=vote, member=member).exists():
        raise ValidationError(_("This member has already voted."))
    with transaction.atomic():
        vote, _on_roll = lock_open_vote(vote.pk, member.pk)  # checked above
        if channel == BallotChannel.PAPER:
            try:
                with transaction.atomic():
                    mark_voted(vote=vote, member=member, channel=channel, officer=actor)
            except IntegrityError:
                raise ValidationError(_("This member has already voted.")) from None
        record_vote_access(actor=actor, action=VoteAction.CHECK_IN, vote=vote, branch=member.branch)
    return member


def _check_tally(vote: Vote, ballots: int, counts: Any) -> Any:
    numbers = set(vote.options.values_list("number", flat=True))
    bad = ValidationError(_("These numbers do not add up. Check the count and enter it again."))
    if vote.kind == VoteKind.ELECTION:
        groups = []
        for count, ranking in counts:
            try:
                ranked = list(check_ranking(ranking, max(numbers)))
            except BallotError:
                raise bad from None
            if count < 0 or not ranked:
                raise bad
            if count:
                groups.append([count, ranked])
        if sum(c for c, _r in groups) != ballots:
            raise bad
        return sorted(groups, key=lambda g: g[1])
    clean = {str(n): int(counts.get(str(n), 0)) for n in sorted(numbers)}
    if any(v < 0 or v > ballots for v in clean.values()):
        raise bad
    if vote.kind != VoteKind.APPROVAL and sum(clean.values()) != ballots:
        raise bad
    return clean


@dataclass(frozen=True)
class TallyOutcome:
    confirmed: bool
    differs: bool  # another officer entered other numbers


def enter_tally(
    *, actor: User, vote: Vote, branch: Branch, ballots: int, counts: Any
) -> TallyOutcome:
    """One officer's count of a branch's paper ballots. When a second officer enters the
    same numbers the tally is confirmed and joins the result; different numbers confirm
    nothing, and both can enter again. The numbers are totals, never one person's vote.
    """
    if not permissions.has_perm(actor, Perm.RUN_ASSEMBLY, branch.id) or branch.is_national:
        raise PermissionDenied
    if not (vote.branch.is_national or vote.branch_id == branch.id):
        raise PermissionDenied
    if ballots < 0:
        raise ValidationError(_("These numbers do not add up. Check the count and enter it again."))
    clean = _check_tally(vote, ballots, counts)
    with transaction.atomic():
        vote = Vote.objects.select_for_update().get(pk=vote.pk)
        if vote.status not in (
            VoteStatus.OPEN,
            VoteStatus.TELLERS,
            VoteStatus.COUNTING,
            VoteStatus.HELD,
        ):
            raise ValidationError(_("Paper ballots can be entered while the vote is open or held."))
        if BranchTally.objects.filter(vote=vote, branch=branch).exists():
            raise ValidationError(_("This branch's paper ballots are already confirmed."))
        TallyEntry.objects.update_or_create(
            vote=vote,
            branch=branch,
            officer=actor,
            defaults={"ballots": ballots, "counts": clean, "entered_at": timezone.now()},
        )
        record_vote_access(actor=actor, action=VoteAction.TALLY, vote=vote, branch=branch)
        others = TallyEntry.objects.filter(vote=vote, branch=branch).exclude(officer=actor)
        if not others.exists():
            return TallyOutcome(confirmed=False, differs=False)
        if any(o.ballots == ballots and o.counts == clean for o in others):
            BranchTally.objects.create(vote=vote, branch=branch, ballots=ballots, counts=clean)
            return TallyOutcome(confirmed=True, differs=False)
    return TallyOutcome(confirmed=False, differs=True)
