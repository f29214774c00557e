"""A responder's answers to an alert: going, cannot go, arrived, done. The same service
whether the answer comes from the office screen or an SMS reply.

Stale answers change nothing and say why: a call-out someone else took (naming their role,
never the person), one already closed, one joined to another. An OK never reopens a
closed call-out; a NO from a place in the chain that escalation has left adds a line
to the timeline and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crisis.audit import CrisisAction
from crisis.models import (
    FINISHED_STATUSES,
    Callout,
    CalloutStatus,
    DeadlineKind,
    Dispatch,
    DispatchRole,
    DispatchState,
    EscalationDeadline,
    ResponderState,
    StepKind,
)
from crisis.services import dispatch as dispatching
from crisis.services.common import (
    add_step,
    cancel_deadlines,
    lock_callout,
    member_of,
    settings_for,
    target,
)
from union import permissions
from union.models import Member
from union.permissions import Perm
from union.services.audit import record_access

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class Answer(StrEnum):
    GOING = "ok"
    DECLINE = "no"
    ARRIVED = "arrived"
    DONE = "done"


class Result(StrEnum):
    ACCEPTED = "accepted"
    DECLINED = "declined"
    MOVED_ON = "moved_on"  # a NO after escalation had left that place: noted only
    ARRIVED = "arrived"
    DONE = "done"
    # Nothing changed:
    DUPLICATE = "duplicate"
    TAKEN = "taken"
    CLOSED = "closed"
    MERGED = "merged"
    NOT_YOURS = "not_yours"
    NOT_NOW = "not_now"


ACTED = frozenset({Result.ACCEPTED, Result.DECLINED, Result.MOVED_ON, Result.ARRIVED, Result.DONE})


@dataclass(frozen=True)
class Answered:
    result: Result
    callout: Callout
    role: str = ""  # for TAKEN: the role of whoever has it
    other_code: str = ""  # for MERGED: the call-out it joined

    @property
    def acted(self) -> bool:
        return self.result in ACTED


def _accept(callout: Callout, mine: Dispatch, member: Member, channel: str, now: datetime) -> None:
    mine.state = DispatchState.ACCEPTED
    mine.answered_at = now
    mine.save(update_fields=["state", "answered_at"])
    callout.status = CalloutStatus.ACKNOWLEDGED
    callout.dispatched_at = callout.dispatched_at or now
    callout.acknowledged_at = callout.acknowledged_at or now
    callout.save(update_fields=["status", "dispatched_at", "acknowledged_at"])
    cancel_deadlines(callout)
    settings = settings_for(callout.branch)
    EscalationDeadline.objects.create(
        callout=callout,
        kind=DeadlineKind.ARRIVAL,
        due_at=now + timedelta(minutes=settings.arrive_minutes),
        created_at=now,
    )
    add_step(callout, StepKind.ACKNOWLEDGED, member=member, role=mine.role, channel=channel, at=now)


def _arrive(callout: Callout, mine: Dispatch, member: Member, channel: str, now: datetime) -> None:
    callout.status = CalloutStatus.ON_SCENE
    callout.arrived_at = callout.arrived_at or now
    callout.save(update_fields=["status", "arrived_at"])
    cancel_deadlines(callout)
    add_step(callout, StepKind.ON_SCENE, member=member, role=mine.role, channel=channel, at=now)


def _resolve(callout: Callout, mine: Dispatch, member: Member, channel: str, now: datetime) -> None:
    callout.status = CalloutStatus.RESOLVED
    callout.resolved_at = callout.resolved_at or now
    callout.save(update_fields=["status", "resolved_at"])
    cancel_deadlines(callout)
    add_step(callout, StepKind.RESOLVED, member=member, role=mine.role, channel=channel, at=now)


def _decline(
    callout: Callout, mine: Dispatch, member: Member, channel: str, now: datetime
) -> Result:
    was_accepted = mine.state == DispatchState.ACCEPTED
    mine.state = DispatchState.DECLINED
    mine.answered_at = now
    mine.save(update_fields=["state", "answered_at"])
    if was_accepted:
        # They took it and now cannot go: the call-out goes back to the chain at once.
        callout.status = CalloutStatus.DISPATCHED
        callout.save(update_fields=["status"])
    else:
        here = (mine.step, mine.round) == (callout.chain_step, callout.chain_round)
        others_waiting = (
            Dispatch.objects.filter(
                callout=callout,
                step=callout.chain_step,
                round=callout.chain_round,
                state=DispatchState.ALERTED,
            )
            .exclude(pk=mine.pk)
            .exists()
        )
        if not here:
            add_step(
                callout,
                StepKind.DECLINED_LATE,
                member=member,
                role=mine.role,
                channel=channel,
                at=now,
            )
            return Result.MOVED_ON
        if others_waiting:
            # Someone else at this place may still go: their deadline runs on.
            add_step(
                callout, StepKind.DECLINED, member=member, role=mine.role, channel=channel, at=now
            )
            return Result.DECLINED
    add_step(callout, StepKind.DECLINED, member=member, role=mine.role, channel=channel, at=now)
    cancel_deadlines(callout)
    dispatching.advance_now(callout, now)
    return Result.DECLINED


def answer_callout(
    *,
    member: Member,
    callout: Callout,
    answer: Answer,
    channel: str,
    actor: User | None = None,
    volunteer: bool = False,
    now: datetime | None = None,
) -> Answered:
    """Record a responder's answer to a call-out's alert.

    `volunteer`: the responder was not alerted but takes the call-out on (the office
    screen, for a member of the branch's crisis team). Side effects: an OK sets the
    arrival deadline; a NO from the current place in the chain alerts the next one at
    once (an SMS through the outbox, after commit). Every answer that changes something
    is on the timeline and in the audit log.
    """
    now = now or timezone.now()
    with transaction.atomic():
        callout = lock_callout(callout.pk)
        if callout.merged_into_id is not None:
            survivor = Callout.objects.get(pk=callout.merged_into_id)
            return Answered(Result.MERGED, callout, other_code=survivor.code)
        if callout.status in FINISHED_STATUSES:
            return Answered(Result.CLOSED, callout)
        accepted = Dispatch.objects.filter(callout=callout, state=DispatchState.ACCEPTED).first()
        if accepted is not None and accepted.responder_id != member.pk:
            return Answered(Result.TAKEN, callout, role=accepted.role)
        mine = (
            Dispatch.objects.filter(callout=callout, responder=member)
            .order_by("-round", "-step", "-id")
            .first()
        )
        if mine is None:
            if not (volunteer and answer == Answer.GOING):
                return Answered(Result.NOT_YOURS, callout)
            mine = Dispatch.objects.create(
                callout=callout,
                responder=member,
                role=DispatchRole.VOLUNTEER,
                step=-1,
                round=callout.chain_round,
                alerted_at=now,
            )
        if accepted is not None:
            mine = accepted
        result = _apply(callout, mine, member, answer, channel, now)
        if result in ACTED:
            record_access(
                actor=actor or member.user,
                action=CrisisAction.ANSWER,
                target=target(callout),
                branch=callout.branch,
            )
    return Answered(result, callout)


def _apply(
    callout: Callout, mine: Dispatch, member: Member, answer: Answer, channel: str, now: datetime
) -> Result:
    taken = mine.state == DispatchState.ACCEPTED
    if answer == Answer.GOING:
        if taken:
            return Result.DUPLICATE
        _accept(callout, mine, member, channel, now)
        return Result.ACCEPTED
    if answer == Answer.DECLINE:
        if mine.state == DispatchState.DECLINED:
            return Result.DUPLICATE
        if callout.status == CalloutStatus.ON_SCENE:
            return Result.NOT_NOW  # already with the person: DONE when it is over
        return _decline(callout, mine, member, channel, now)
    if answer == Answer.ARRIVED:
        if callout.status == CalloutStatus.ON_SCENE:
            return Result.DUPLICATE
        if not taken:
            _accept(callout, mine, member, channel, now)  # went without answering first
        _arrive(callout, mine, member, channel, now)
        return Result.ARRIVED
    if not taken:
        _accept(callout, mine, member, channel, now)
    _resolve(callout, mine, member, channel, now)
    return Result.DONE


def answer_on_web(*, actor: User, callout: Callout, answer: Answer) -> Answered:
    """The office screen's buttons. A member of the branch's crisis team may take on a
    call-out they were not alerted for; any other answer must be to their own alert."""
    permissions.require(actor, Perm.RESPOND_CALLOUT, callout.branch_id)
    member = member_of(actor)
    if member is None:
        raise ValidationError(_("Only a member of the crisis team can answer."), code="member")
    answered = answer_callout(
        member=member,
        callout=callout,
        answer=answer,
        channel="web",
        actor=actor,
        volunteer=True,
    )
    return answered


def mark_unreachable(*, member: Member, now: datetime | None = None) -> list[Callout]:
    """STOP: no more alerts to this responder until a coordinator puts them back. Their
    unanswered alerts are treated as a NO at once. Returns the call-outs that moved on."""
    now = now or timezone.now()
    with transaction.atomic():
        state, _created = ResponderState.objects.select_for_update().get_or_create(member=member)
        if state.unreachable_since is None:
            state.unreachable_since = now
            state.save(update_fields=["unreachable_since"])
        waiting = list(
            Dispatch.objects.filter(
                responder=member,
                state=DispatchState.ALERTED,
                callout__status__in=(CalloutStatus.REPORTED, CalloutStatus.DISPATCHED),
                callout__merged_into__isnull=True,
            ).values_list("callout_id", flat=True)
        )
    moved = []
    for callout_id in sorted(set(waiting)):
        with transaction.atomic():
            callout = lock_callout(callout_id)
            add_step(callout, StepKind.UNREACHABLE, member=member, channel="sms", at=now)
        answered = answer_callout(
            member=member, callout=callout, answer=Answer.DECLINE, channel="sms", now=now
        )
        if answered.acted:
            moved.append(callout)
    return moved


def mark_reachable(*, actor: User, member: Member) -> None:
    """A coordinator puts a responder who texted STOP back on the rota's alerts."""
    from crisis.audit import CrisisAction as Action

    permissions.require(actor, Perm.COORDINATE_CRISIS, member.branch_id)
    with transaction.atomic():
        ResponderState.objects.filter(member=member).update(unreachable_since=None)
        record_access(
            actor=actor,
            action=Action.REACHABLE,
            target=f"member:{member.public_id}",
            branch=member.branch,
        )
