"""Call-outs: logging one (an officer) or reporting one (a member), notes, closing,
merging a duplicate and undoing the merge."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crisis.audit import CrisisAction
from crisis.models import (
    TRANSITIONS,
    Callout,
    CalloutNote,
    CalloutStatus,
    CalloutType,
    Need,
    Outcome,
    Source,
    StepKind,
    Urgency,
)
from crisis.services import dispatch as dispatching
from crisis.services.common import (
    add_step,
    cancel_deadlines,
    create_with_code,
    lock_callout,
    member_of,
    target,
)
from union import permissions
from union.models import Branch, Member, MemberStatus
from union.permissions import Perm
from union.services.audit import record_access

if TYPE_CHECKING:
    from django.contrib.auth.models import User

MAX_TEXT = 4000  # characters of narrative, description or note
DUPLICATE_WINDOW = timedelta(hours=24)
# Time a report may be dated back (a call taken on paper during an outage, say).
BACKDATE_LIMIT = timedelta(days=7)


@dataclass
class CalloutDetails:
    """What an officer or a member tells us. Free text is encrypted at rest."""

    kind: str
    urgency: int
    needs: list[str] = field(default_factory=list)
    area: str = ""
    narrative: str = ""
    person_description: str = ""


def _clean(details: CalloutDetails) -> CalloutDetails:
    errors: dict[str, str] = {}
    if details.kind not in CalloutType.values:
        errors["kind"] = _("Choose what happened.")
    if details.urgency not in Urgency.values:
        errors["urgency"] = _("Choose how urgent it is.")
    if any(n not in Need.values for n in details.needs):
        errors["needs"] = _("Choose from the list.")
    for name in ("area", "narrative", "person_description"):
        if len(getattr(details, name)) > MAX_TEXT:
            errors[name] = _("Please keep this under %(n)s characters.") % {"n": MAX_TEXT}
    if errors:
        raise ValidationError(errors)
    return CalloutDetails(
        kind=details.kind,
        urgency=details.urgency,
        needs=sorted(set(details.needs)),
        area=details.area.strip(),
        narrative=details.narrative.strip(),
        person_description=details.person_description.strip(),
    )


def find_member(*, branch: Branch, number: str) -> Member:
    """A member of the branch by membership number. The same error for a number that
    does not exist and one of another branch: neither is for this call-out."""
    number = (number or "").strip().upper()
    found = Member.objects.filter(
        number=number,
        branch=branch,
        status__in=(MemberStatus.ACTIVE, MemberStatus.LAPSED, MemberStatus.SUSPENDED),
    ).first()
    if found is None:
        raise ValidationError(
            {"member_number": _("No member of this branch has that number.")}, code="member"
        )
    return found


def _create(
    *,
    branch: Branch,
    details: CalloutDetails,
    source: str,
    member: Member | None,
    reported_by: Member | None,
    logged_by: User | None,
    reported_at: datetime,
) -> Callout:
    callout = create_with_code(
        Callout(
            branch=branch,
            kind=details.kind,
            urgency=details.urgency,
            source=source,
            member=member,
            person_description=details.person_description,
            needs=details.needs,
            area=details.area,
            narrative=details.narrative,
            reported_by=reported_by,
            logged_by=logged_by,
            reported_at=reported_at,
        )
    )
    add_step(callout, StepKind.REPORTED, member=reported_by, channel="web", at=reported_at)
    dispatching.start_dispatch(callout)
    return callout


def log_callout(
    *,
    actor: User,
    branch: Branch,
    details: CalloutDetails,
    source: str,
    member_number: str = "",
    reported_at: datetime | None = None,
) -> Callout:
    """An officer of the crisis team logs a call-out (helpline, walk-in, SMS, outreach).

    Side effects: the on-duty responder (or the next place in the chain) is alerted at
    once through the outbox, after commit; the escalation deadline is stored.
    """
    permissions.require(actor, Perm.LOG_CALLOUT, branch)
    if source not in Source.values or source == Source.MEMBER:
        raise ValidationError({"source": _("Choose how it reached us.")}, code="source")
    details = _clean(details)
    now = timezone.now()
    reported_at = reported_at or now
    if reported_at > now or reported_at < now - BACKDATE_LIMIT:
        raise ValidationError(
            {"reported_at": _("The time must be within the last seven days.")}, code="time"
        )
    member = find_member(branch=branch, number=member_number) if member_number.strip() else None
    with transaction.atomic():
        callout = _create(
            branch=branch,
            details=details,
            source=source,
            member=member,
            reported_by=member_of(actor),
            logged_by=actor,
            reported_at=reported_at,
        )
        record_access(actor=actor, action=CrisisAction.LOG, target=target(callout), branch=branch)
    return callout


def report_callout(*, actor: User, details: CalloutDetails, for_self: bool) -> Callout:
    """A member reports for themselves or a colleague, from their own account.

    Side effects: as log_callout. The member's branch answers."""
    reporter = member_of(actor)
    if reporter is None or reporter.status not in (MemberStatus.ACTIVE, MemberStatus.LAPSED):
        raise ValidationError(_("Only members can report here."), code="member")
    details = _clean(details)
    if not for_self and not details.person_description:
        raise ValidationError(
            {"person_description": _("Tell us how the crisis team will know who to look for.")},
            code="who",
        )
    with transaction.atomic():
        callout = _create(
            branch=reporter.branch,
            details=details,
            source=Source.MEMBER,
            member=reporter if for_self else None,
            reported_by=reporter,
            logged_by=actor,
            reported_at=timezone.now(),
        )
        record_access(
            actor=actor, action=CrisisAction.REPORT, target=target(callout), branch=reporter.branch
        )
    return callout


def add_note(*, actor: User, callout: Callout, text: str) -> CalloutNote:
    permissions.require(actor, Perm.RESPOND_CALLOUT, callout.branch_id)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": _("Write the note first.")}, code="empty")
    if len(text) > MAX_TEXT:
        raise ValidationError(
            {"text": _("Please keep this under %(n)s characters.") % {"n": MAX_TEXT}}, code="long"
        )
    with transaction.atomic():
        callout = lock_callout(callout.pk)
        if callout.erased_at is not None:
            raise ValidationError(_("This call-out's text has been erased."), code="erased")
        note = CalloutNote.objects.create(callout=callout, author=member_of(actor), text=text)
        record_access(
            actor=actor, action=CrisisAction.NOTE, target=target(callout), branch=callout.branch
        )
    return note


def close_callout(*, actor: User, callout: Callout, outcome: str) -> Callout:
    """A coordinator closes a call-out with its outcome (from any open state: a false
    alarm need not be walked through every step). Waiting deadlines are cancelled."""
    permissions.require(actor, Perm.COORDINATE_CRISIS, callout.branch_id)
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": _("Choose the outcome.")}, code="outcome")
    now = timezone.now()
    with transaction.atomic():
        callout = lock_callout(callout.pk)
        if callout.merged_into_id is not None:
            raise ValidationError(
                _("This call-out was merged into another; close that one."), code="merged"
            )
        if CalloutStatus.CLOSED not in TRANSITIONS[callout.status]:
            raise ValidationError(_("This call-out is already closed."), code="closed")
        callout.status = CalloutStatus.CLOSED
        callout.outcome = outcome
        callout.closed_at = now
        callout.resolved_at = callout.resolved_at or now
        callout.save(update_fields=["status", "outcome", "closed_at", "resolved_at"])
        cancel_deadlines(callout)
        add_step(callout, StepKind.CLOSED, member=member_of(actor), channel="web", at=now)
        record_access(
            actor=actor, action=CrisisAction.CLOSE, target=target(callout), branch=callout.branch
        )
    return callout


def merge_callouts(*, actor: User, duplicate: Callout, into: Callout) -> Callout:
    """Merge a duplicate into the call-out that goes on. Both timelines stay (the survivor
    shows the duplicate's too); the duplicate's alerts and deadlines stop; only the
    survivor counts in the figures. Undone by unmerge_callout."""
    permissions.require(actor, Perm.COORDINATE_CRISIS, duplicate.branch_id)
    if duplicate.pk == into.pk:
        raise ValidationError(_("A call-out cannot be merged into itself."), code="self")
    now = timezone.now()
    with transaction.atomic():
        # Both locks, in id order, so two merges of the same pair cannot deadlock.
        first, second = sorted([duplicate.pk, into.pk])
        locked = {first: lock_callout(first), second: lock_callout(second)}
        duplicate, into = locked[duplicate.pk], locked[into.pk]
        if duplicate.branch_id != into.branch_id:
            raise ValidationError(_("Only call-outs of the same branch can be merged."))
        if abs(duplicate.reported_at - into.reported_at) > DUPLICATE_WINDOW:
            raise ValidationError(_("Only call-outs reported within 24 hours can be merged."))
        if duplicate.merged_into_id is not None or into.merged_into_id is not None:
            raise ValidationError(_("One of these call-outs is already merged."), code="merged")
        if duplicate.merged.exists():
            raise ValidationError(
                _("Other call-outs were merged into this one; merge the other way."),
                code="chain",
            )
        duplicate.merged_into = into
        duplicate.save(update_fields=["merged_into"])
        cancel_deadlines(duplicate)
        member = member_of(actor)
        add_step(duplicate, StepKind.MERGED, member=member, channel="web", at=now, other=into)
        add_step(into, StepKind.MERGED, member=member, channel="web", at=now, other=duplicate)
        record_access(
            actor=actor, action=CrisisAction.MERGE, target=target(duplicate), branch=into.branch
        )
    return into


def unmerge_callout(*, actor: User, callout: Callout) -> Callout:
    """Undo a merge: the call-out stands on its own again. If nobody had taken it on, its
    escalation starts again from where it was."""
    permissions.require(actor, Perm.COORDINATE_CRISIS, callout.branch_id)
    now = timezone.now()
    with transaction.atomic():
        callout = lock_callout(callout.pk)
        if callout.merged_into_id is None:
            raise ValidationError(_("This call-out is not merged."), code="not_merged")
        survivor = lock_callout(callout.merged_into_id)
        callout.merged_into = None
        callout.save(update_fields=["merged_into"])
        member = member_of(actor)
        add_step(callout, StepKind.UNMERGED, member=member, channel="web", at=now, other=survivor)
        add_step(survivor, StepKind.UNMERGED, member=member, channel="web", at=now, other=callout)
        if callout.status in (CalloutStatus.REPORTED, CalloutStatus.DISPATCHED):
            dispatching.advance_now(callout, now)
        record_access(
            actor=actor, action=CrisisAction.UNMERGE, target=target(callout), branch=callout.branch
        )
    return callout
