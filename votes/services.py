"""Writes for votes: creating and scheduling, opening, casting, assemblies, roles.

Counting and publishing live in votes.results. Every function here that changes
something runs in one transaction and writes the audit log, except cast_ballot: a ballot
is in no audit table, and the voted mark is its own record.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from union import permissions
from union.models import AuditAction, Branch, Member, RoleAssignment
from union.permissions import Perm
from union.services.audit import record_access
from votes import receipts
from votes.counting.profile import BallotError, check_ranking
from votes.models import (
    Ballot,
    BallotChannel,
    BranchTally,
    TallyEntry,
    Threshold,
    Vote,
    VoteKind,
    VoteMark,
    VoteOption,
    VoteRoll,
    VoteStatus,
)
from votes.selectors import eligible_members, may_manage

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class AlreadyVoted(ValidationError):
    def __init__(self) -> None:
        super().__init__(_("You have already voted in this vote. Your vote was counted once."))


def _target(vote: Vote) -> str:
    return f"vote:{vote.public_id}"


def _require_manage(actor: User, vote: Vote) -> None:
    if not may_manage(actor, vote):
        raise PermissionDenied


# --- creating -------------------------------------------------------------------------


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
            created_by=actor,
        )
        if spec.kind == VoteKind.MOTION:
            VoteOption.objects.bulk_create(
                [VoteOption(vote=vote, number=n, label=label) for n, label in MOTION_OPTIONS]
            )
        record_access(
            actor=actor, action=AuditAction.VOTE_CREATE, target=_target(vote), branch=vote.branch
        )
    return vote


def add_option(
    *, actor: User, vote: Vote, label: str, statement: str = "", member: Member | None = None
) -> VoteOption:
    """A candidate or choice, while the vote is a draft."""
    _require_manage(actor, vote)
    if vote.kind == VoteKind.MOTION:
        raise ValidationError(_("A motion's choices are for, against and abstain."))
    if member is not None and not (vote.branch.is_national or member.branch_id == vote.branch_id):
        raise ValidationError(_("A candidate must be a member of the branch that votes."))
    with transaction.atomic():
        vote = Vote.objects.select_for_update().get(pk=vote.pk)
        if vote.status != VoteStatus.DRAFT:
            raise ValidationError(_("Candidates can only change while the vote is a draft."))
        last = vote.options.order_by("-number").values_list("number", flat=True).first() or 0
        return VoteOption.objects.create(
            vote=vote,
            number=last + 1,
            label=label.strip(),
            statement=statement.strip(),
            member=member,
        )


def remove_option(*, actor: User, option: VoteOption) -> None:
    """Remove a choice from a draft; the ones after it move up, so numbers stay 1..n."""
    vote = option.vote
    _require_manage(actor, vote)
    with transaction.atomic():
        vote = Vote.objects.select_for_update().get(pk=vote.pk)
        if vote.status != VoteStatus.DRAFT or vote.kind == VoteKind.MOTION:
            raise ValidationError(_("Candidates can only change while the vote is a draft."))
        option.delete()
        for n, later in enumerate(vote.options.order_by("number"), start=1):
            if later.number != n:
                VoteOption.objects.filter(pk=later.pk).update(number=n)


def schedule_vote(*, actor: User, vote: Vote) -> Vote:
    """Fix a draft: from now on nothing in it changes. Opens at once if its time has come."""
    _require_manage(actor, vote)
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
        vote.status = VoteStatus.SCHEDULED
        vote.save(update_fields=["status"])
        record_access(
            actor=actor, action=AuditAction.VOTE_SCHEDULE, target=_target(vote), branch=vote.branch
        )
    if vote.opens_at <= timezone.now():
        open_vote(vote.pk)
        vote.refresh_from_db()
    return vote


def cancel_vote(*, actor: User, vote: Vote) -> Vote:
    """Only before it opens: once members may have voted, a vote runs to its count."""
    _require_manage(actor, vote)
    with transaction.atomic():
        vote = Vote.objects.select_for_update().get(pk=vote.pk)
        if vote.status == VoteStatus.CANCELLED:
            return vote
        if vote.status not in (VoteStatus.DRAFT, VoteStatus.SCHEDULED):
            raise ValidationError(_("A vote that has opened cannot be cancelled."))
        vote.status = VoteStatus.CANCELLED
        vote.save(update_fields=["status"])
        record_access(
            actor=actor, action=AuditAction.VOTE_CANCEL, target=_target(vote), branch=vote.branch
        )
    return vote


def open_vote(vote_id: int) -> bool:
    """Open a scheduled vote whose time has come and freeze its roll. True if this call did.

    The conditional UPDATE is the claim: two workers (or a worker and the officer's
    "schedule" click) never both open it, so the roll is written once.
    """
    now = timezone.now()
    with transaction.atomic():
        claimed = Vote.objects.filter(
            pk=vote_id, status=VoteStatus.SCHEDULED, opens_at__lte=now
        ).update(status=VoteStatus.OPEN)
        if not claimed:
            return False
        vote = Vote.objects.select_related("branch").get(pk=vote_id)
        members = eligible_members(vote.branch).values_list("pk", flat=True)
        VoteRoll.objects.bulk_create(
            [VoteRoll(vote_id=vote_id, member_id=pk) for pk in members.iterator()],
            batch_size=5000,
        )
        count = VoteRoll.objects.filter(vote_id=vote_id).count()
        Vote.objects.filter(pk=vote_id).update(eligible_count=count)
        record_access(
            actor=None,
            action=AuditAction.VOTE_OPEN,
            target=_target(vote),
            branch=vote.branch,
            rows=count,
        )
    return True


# --- casting --------------------------------------------------------------------------


def parse_choices(vote: Vote, raw: Iterable[Any]) -> list[int]:
    """Check and normalise what a ballot form sent. Raises a translated ValidationError.

    Motions and single choice: exactly one option. Approval: any number of distinct
    options (none is a valid, empty approval). Elections: a ranking of distinct
    candidates, at least a first choice.
    """
    numbers = {option.number for option in vote.options.all()}  # prefetched by the screens
    choices: list[int] = []
    for value in raw:
        try:
            number = int(str(value))
        except ValueError:
            raise ValidationError(_("This ballot holds a choice that is not on it.")) from None
        if number not in numbers:
            raise ValidationError(_("This ballot holds a choice that is not on it."))
        choices.append(number)
    if vote.kind in (VoteKind.MOTION, VoteKind.SINGLE):
        if len(choices) != 1:
            raise ValidationError(_("Choose one answer."))
        return choices
    if len(set(choices)) != len(choices):
        if vote.kind == VoteKind.ELECTION:
            raise ValidationError(_("You chose the same candidate twice. Each can have one place."))
        raise ValidationError(_("You chose the same candidate twice."))
    if vote.kind == VoteKind.APPROVAL:
        return sorted(choices)
    if not choices:
        raise ValidationError(_("Choose at least your first choice."))
    try:
        return list(check_ranking(choices, max(numbers)))
    except BallotError:
        raise ValidationError(_("This ballot holds a choice that is not on it.")) from None


# The table names come from the models, once; nothing but the parameters varies.
LOCK_OPEN_VOTE_SQL = (
    f"SELECT v.*, EXISTS (SELECT 1 FROM {VoteRoll._meta.db_table} r "  # noqa: S608
    "WHERE r.vote_id = v.id AND r.member_id = %s) AS on_roll "
    f"FROM {Vote._meta.db_table} v WHERE v.id = %s FOR SHARE OF v"
)


def _lock_open_vote(vote_id: int, member_id: int) -> tuple[Vote, bool]:
    """Read the vote inside the casting transaction and refuse if it is not open now.
    Also says whether the member is on its roll (frozen at opening), in the same query.

    On PostgreSQL the row is locked FOR SHARE: casts do not block each other, but the
    close (an UPDATE of the row) waits for the casts in flight and casts that come after
    it see it closed, so no ballot slips in after the count has started.
    """
    if connection.vendor == "postgresql":
        # One round trip locks the row, reads it and checks the roll.
        locked = Vote.objects.raw(LOCK_OPEN_VOTE_SQL, [member_id, vote_id])
        found = next(iter(locked), None)
        if found is None:
            raise Vote.DoesNotExist
        vote = found
    else:
        # SQLite: transactions begin IMMEDIATE (settings), so a cast already holds the
        # database's one write lock and the close waits for it, like the share lock above.
        on_roll = VoteRoll.objects.filter(vote=OuterRef("pk"), member_id=member_id)
        vote = Vote.objects.annotate(on_roll=Exists(on_roll)).get(pk=vote_id)
    now = timezone.now()
    if vote.status != VoteStatus.OPEN or not (vote.opens_at <= now < vote.closes_at):
        raise ValidationError(_("This vote is not open. Nothing was recorded."))
    return vote, bool(vote.on_roll)  # type: ignore[attr-defined]


def cast_ballot(
    *,
    vote: Vote,
    member: Member,
    choices: Iterable[Any],
    channel: str = BallotChannel.ONLINE,
    officer: User | None = None,
) -> str:
    """Record that the member voted and, separately, their ballot. Returns the receipt code.

    Both rows are written in one transaction; the unique voted mark makes a second
    submission (double tap, second device, replay) fail as a whole, so exactly one
    ballot exists per member. The code is shown once and never stored: the ballot keeps
    only its hash. No audit row, no message, no task: nothing else knows a vote was cast.
    """
    clean = parse_choices(vote, choices)
    code = receipts.new_code()
    try:
        with transaction.atomic():
            vote, on_roll = _lock_open_vote(vote.pk, member.pk)
            if not on_roll:
                raise ValidationError(
                    _("You are not on the list of voters for this vote. Nothing was recorded.")
                )
            VoteMark.objects.create(
                vote=vote,
                member=member,
                channel=channel,
                branch_id=member.branch_id,
                officer=officer,
            )
            Ballot.objects.create(
                vote=vote, choices=clean, receipt_hash=receipts.receipt_hash(code)
            )
    except IntegrityError:
        if VoteMark.objects.filter(vote=vote, member=member).exists():
            raise AlreadyVoted() from None
        raise
    return code


# --- assemblies -----------------------------------------------------------------------


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
        vote, _on_roll = _lock_open_vote(vote.pk, member.pk)  # checked above
        if channel == BallotChannel.PAPER:
            try:
                with transaction.atomic():
                    VoteMark.objects.create(
                        vote=vote,
                        member=member,
                        channel=channel,
                        branch_id=member.branch_id,
                        officer=actor,
                    )
            except IntegrityError:
                raise ValidationError(_("This member has already voted.")) from None
        record_access(
            actor=actor,
            action=AuditAction.VOTE_CHECK_IN,
            target=_target(vote),
            branch=member.branch,
        )
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
        if vote.status not in (VoteStatus.OPEN, VoteStatus.COUNTING, VoteStatus.HELD):
            raise ValidationError(_("Paper ballots can be entered while the vote is open or held."))
        if BranchTally.objects.filter(vote=vote, branch=branch).exists():
            raise ValidationError(_("This branch's paper ballots are already confirmed."))
        TallyEntry.objects.update_or_create(
            vote=vote,
            branch=branch,
            officer=actor,
            defaults={"ballots": ballots, "counts": clean, "entered_at": timezone.now()},
        )
        record_access(
            actor=actor, action=AuditAction.VOTE_TALLY, target=_target(vote), branch=branch
        )
        others = TallyEntry.objects.filter(vote=vote, branch=branch).exclude(officer=actor)
        if not others.exists():
            return TallyOutcome(confirmed=False, differs=False)
        if any(o.ballots == ballots and o.counts == clean for o in others):
            BranchTally.objects.create(vote=vote, branch=branch, ballots=ballots, counts=clean)
            return TallyOutcome(confirmed=True, differs=False)
    return TallyOutcome(confirmed=False, differs=True)


# --- after the count ------------------------------------------------------------------


def confirm_elected_roles(*, actor: User, vote: Vote) -> list[RoleAssignment]:
    """The returning officer turns the published election into role assignments for the
    term (union.services.roles.assign_role, which checks they may hand out that role).
    Once only; a second call returns nothing new.
    """
    from union.services.roles import assign_role

    if getattr(actor, "member", None) != vote.returning_officer:
        raise PermissionDenied
    with transaction.atomic():
        vote = Vote.objects.select_for_update().get(pk=vote.pk)
        if vote.roles_confirmed_at is not None:
            return []
        result = vote.result or {}
        if vote.status != VoteStatus.PUBLISHED or not vote.role or not result.get("valid"):
            raise ValidationError(_("Only a published, valid election can give roles."))
        if vote.term_starts_on is None:
            raise ValidationError(_("Give the date the term starts."))
        by_number = {o.number: o for o in vote.options.select_related("member")}
        made = []
        for number in result.get("elected", []):
            option = by_number[number]
            if option.member is None:
                continue
            made.append(
                assign_role(
                    actor=actor,
                    member=option.member,
                    role=vote.role,
                    branch=vote.branch,
                    starts_on=vote.term_starts_on,
                    ends_on=vote.term_ends_on,
                )
            )
        vote.roles_confirmed_at = timezone.now()
        vote.save(update_fields=["roles_confirmed_at"])
        record_access(
            actor=actor,
            action=AuditAction.VOTE_ROLES,
            target=_target(vote),
            branch=vote.branch,
            rows=len(made),
        )
    return made
