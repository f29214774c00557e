"""From a draft to an open vote: creating it, its choices, scheduling or cancelling it,
and opening it at its time with the roll of voters frozen.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from union import permissions
from union.models import Branch, Member, MemberStatus
from union.permissions import Perm
from votes import receipts, sealing
from votes.audit import VoteAction
from votes.models import Teller, Threshold, Vote, VoteKind, VoteOption, VoteRoll, VoteStatus
from votes.selectors import eligible_members
from votes.services.common import record_vote_access, require_manage
from votes.services.tellers import MAX_TELLERS, tellers_ready

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@dataclass(frozen=True)
class VoteSpec:
    kind: str
    title: str
    text: str
    branch: Branch
    opens_at: datetime
    closes_at: datetime
    seats: int = 1
    threshold: str = ""
    quorum_percent: int = 0
    role: str = ""
    term_starts_on: date | None = None
    term_ends_on: date | None = None
    shares_needed: int = 2  # tellers' key sheets needed at the count


MOTION_OPTIONS = [(1, "For"), (2, "Against"), (3, "Abstain")]


def create_vote(*, actor: User, spec: VoteSpec) -> Vote:
    """A draft vote. Motions get their three options; other kinds get options added next."""
    scope = permissions.scope_for(actor, Perm.MANAGE_VOTES)
    allowed = scope.everywhere if spec.branch.is_national else scope.allows(spec.branch.id)
    returning_officer = getattr(actor, "member", None)
    if not allowed or returning_officer is None:
        raise PermissionDenied
    if spec.closes_at <= spec.opens_at:
        raise ValidationError({"closes_at": _("The vote must close after it opens.")})
    if not 0 <= spec.quorum_percent <= 100:
        raise ValidationError({"quorum_percent": _("The quorum is a share between 0 and 100%.")})
    if spec.kind == VoteKind.MOTION and spec.threshold not in Threshold.values:
        raise ValidationError({"threshold": _("Choose the majority a motion needs.")})
    if spec.kind in (VoteKind.MOTION, VoteKind.SINGLE) and spec.seats != 1:
        raise ValidationError({"seats": _("Only elections and approval votes fill several seats.")})
    if spec.role and spec.kind != VoteKind.ELECTION:
        raise ValidationError({"role": _("Only an election can give roles.")})
    if spec.role and spec.term_starts_on is None:
        raise ValidationError({"term_starts_on": _("Give the date the term starts.")})
    if not 2 <= spec.shares_needed <= MAX_TELLERS - 1:
        raise ValidationError(
            {"shares_needed": _("Between 2 and 8 key sheets are needed at the count.")}
        )
    with transaction.atomic():
        vote = Vote.objects.create(
            kind=spec.kind,
            title=spec.title.strip(),
            text=spec.text.strip(),
            branch=spec.branch,
            seats=spec.seats,
            threshold=spec.threshold if spec.kind == VoteKind.MOTION else "",
            quorum_percent=spec.quorum_percent,
            opens_at=spec.opens_at,
            closes_at=spec.closes_at,
            returning_officer=returning_officer,
            role=spec.role,
            term_starts_on=spec.term_starts_on,
            term_ends_on=spec.term_ends_on,
            shares_needed=spec.shares_needed,
            created_by=actor,
        )
        # The officer who runs the vote is its first teller; she adds the others.
        if actor.is_active and returning_officer.status == MemberStatus.ACTIVE:
            Teller.objects.create(vote=vote, number=1, member=returning_officer)
        if spec.kind == VoteKind.MOTION:
            VoteOption.objects.bulk_create(
                [VoteOption(vote=vote, number=n, label=label) for n, label in MOTION_OPTIONS]
            )
        record_vote_access(actor=actor, action=VoteAction.CREATE, vote=vote)
    return vote


def add_option(
    *,
    actor: User,
    vote: Vote,
    label: str,
    statement: str = "",
    member: Member | None = None,
    member_number: str = "",
) -> VoteOption:
    """A candidate or choice, numbered after the others, while the vote is a draft.

    The candidate is a member of the voting branch (any branch for a national vote), given
    as `member` or by `member_number`. A number from another branch gets the same answer
    as a number nobody has: the screen must not tell who is a member elsewhere.
    """
    require_manage(actor, vote)
    if vote.kind == VoteKind.MOTION:
        raise ValidationError(_("A motion's choices are for, against and abstain."))
    if member_number.strip():
        member = _candidate(vote, member_number)
    elif member is not None and not _may_stand(vote, member):
        raise _not_in_the_voting_branch()
    with transaction.atomic():
        vote = Vote.objects.select_for_update().get(pk=vote.pk)
        if vote.status != VoteStatus.DRAFT:
            raise ValidationError(_("Candidates can only change while the vote is a draft."))
        last = vote.options.order_by("-number").values_list("number", flat=True).first() or 0
        option = VoteOption.objects.create(
            vote=vote,
            number=last + 1,
            label=label.strip(),
            statement=statement.strip(),
            member=member,
        )
        record_vote_access(actor=actor, action=VoteAction.OPTION_ADD, vote=vote)
    return option


def _not_in_the_voting_branch() -> ValidationError:
    return ValidationError(
        {"member_number": _("No member of the voting branch has this membership number.")},
        code="candidate",
    )


def _may_stand(vote: Vote, member: Member) -> bool:
    return vote.branch.is_national or member.branch_id == vote.branch_id


def _candidate(vote: Vote, number: str) -> Member:
    """The member of the voting branch with this number; looked up in that branch only."""
    members = Member.objects.filter(number=number.strip().upper())
    if not vote.branch.is_national:
        members = members.filter(branch_id=vote.branch_id)
    member = members.first()
    if member is None:
        raise _not_in_the_voting_branch()
    return member


def remove_option(*, actor: User, option: VoteOption) -> None:
    """Remove a choice from a draft; the ones after it move up, so numbers stay 1..n.
    A choice already removed (a second click) is left as it is."""
    vote = option.vote
    require_manage(actor, vote)
    with transaction.atomic():
        vote = Vote.objects.select_for_update().get(pk=vote.pk)
        if vote.status != VoteStatus.DRAFT or vote.kind == VoteKind.MOTION:
            raise ValidationError(_("Candidates can only change while the vote is a draft."))
        removed, _by_model = VoteOption.objects.filter(pk=option.pk, vote=vote).delete()
        if not removed:
            return
        for n, later in enumerate(vote.options.order_by("number"), start=1):
            if later.number != n:
                VoteOption.objects.filter(pk=later.pk).update(number=n)
        record_vote_access(actor=actor, action=VoteAction.OPTION_REMOVE, vote=vote)


def schedule_vote(*, actor: User, vote: Vote) -> Vote:
    """Fix a draft: from now on nothing in it changes. Opens at once if its time has come."""
    require_manage(actor, vote)
    with transaction.atomic():
        vote = Vote.objects.select_for_update().get(pk=vote.pk)
        if vote.status != VoteStatus.DRAFT:
            return vote
        options = vote.options.count()
        if options < 2:
            raise ValidationError(_("A vote needs at least two choices."))
        if vote.kind in (VoteKind.ELECTION, VoteKind.APPROVAL) and vote.seats >= options:
            raise ValidationError(_("There must be more candidates than seats."))
        if vote.closes_at <= timezone.now():
            raise ValidationError(_("The closing time has already passed."))
        problems = tellers_ready(vote, list(vote.tellers.all()))
        if problems:
            raise ValidationError(problems)
        vote.status = VoteStatus.SCHEDULED
        vote.save(update_fields=["status"])
        record_vote_access(actor=actor, action=VoteAction.SCHEDULE, vote=vote)
    if vote.opens_at <= timezone.now():
        open_vote(vote.pk)
        vote.refresh_from_db()
    return vote


def cancel_vote(*, actor: User, vote: Vote) -> Vote:
    """Only before it opens: once members may have voted, a vote runs to its count."""
    require_manage(actor, vote)
    with transaction.atomic():
        vote = Vote.objects.select_for_update().get(pk=vote.pk)
        if vote.status == VoteStatus.CANCELLED:
            return vote
        if vote.status not in (VoteStatus.DRAFT, VoteStatus.SCHEDULED):
            raise ValidationError(_("A vote that has opened cannot be cancelled."))
        vote.status = VoteStatus.CANCELLED
        vote.save(update_fields=["status"])
        record_vote_access(actor=actor, action=VoteAction.CANCEL, vote=vote)
    return vote


def open_vote(vote_id: int) -> bool:
    """Open a scheduled vote whose time has come: freeze its roll and make its key. True if
    this call opened it.

    The key (votes.sealing): only its public key is stored; each teller's share is sealed
    to her key sheet. A vote whose tellers are not all ready does not open (its returning
    officer is told, once) until they are; the clock tries again every minute.
    The row lock is the claim: two workers (or a worker and the officer's "schedule"
    click) never both open it, so the roll and the key are made once.
    """
    from union.notifications.services import notify_member

    now = timezone.now()
    with transaction.atomic():
        vote = (
            Vote.objects.select_for_update(of=("self",))
            .select_related("branch", "returning_officer")
            .filter(pk=vote_id, status=VoteStatus.SCHEDULED, opens_at__lte=now)
            .first()
        )
        if vote is None:
            return False
        tellers = list(vote.tellers.all())
        if tellers_ready(vote, tellers):
            notify_member(
                member=vote.returning_officer,
                kind="vote_tellers",
                dedupe_key=f"vote-tellers:{vote.pk}",
                context={},
            )
            return False
        key = sealing.make_vote_key(
            public_id=vote.public_id,
            teller_keys={t.number: bytes(t.public_key or b"") for t in tellers},
            needed=vote.shares_needed,
        )
        for teller in tellers:
            teller.sealed_share = key.sealed_shares[teller.number]
        Teller.objects.bulk_update(tellers, ["sealed_share"])
        members = eligible_members(vote.branch).values_list("pk", flat=True)
        VoteRoll.objects.bulk_create(
            [VoteRoll(vote_id=vote_id, member_id=pk) for pk in members.iterator()],
            batch_size=5000,
        )
        count = VoteRoll.objects.filter(vote_id=vote_id).count()
        vote.status = VoteStatus.OPEN
        vote.eligible_count = count
        vote.public_key = key.public_key
        vote.receipt_salt = os.urandom(receipts.SALT_BYTES)
        vote.save(update_fields=["status", "eligible_count", "public_key", "receipt_salt"])
        record_vote_access(actor=None, action=VoteAction.OPEN, vote=vote, rows=count)
    return True
