"""Inbound SMS: a responder's reply to an alert, and the provider's delivery reports.

Each provider message is handled once (the provider's id is unique here): a replay
changes nothing. Unknown numbers get no reply at all. A known responder gets a
confirmation for every reply that did something, and at most QUIET_REPLIES other
answers (HELP, an unknown code, "already taken") until their next alert, so a phone
stuck in a loop with an auto-responder cannot run up the bill. Log lines carry the
outcome and our own row id, never the text or the number.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone

from crisis import sms
from crisis.models import (
    Callout,
    CalloutStatus,
    DeliveryReport,
    Dispatch,
    DispatchState,
    InboundSms,
    ReplyOutcome,
    StepKind,
)
from crisis.providers import DeliveryStatus, Inbound
from crisis.services import answers
from crisis.services import dispatch as dispatching
from crisis.services.common import add_step, cancel_deadlines, lock_callout, settings_for
from union.crypto import keyed_hash
from union.models import Member, Notification, Role, RoleAssignment
from union.notifications.services import notify_member
from union.phones import normalise_phone

log = logging.getLogger(__name__)

QUIET_REPLIES = 5
CRISIS_ROLES = (Role.CRISIS_RESPONDER, Role.CRISIS_COORDINATOR)

_ACTIONS = {
    sms.Action.OK: answers.Answer.GOING,
    sms.Action.NO: answers.Answer.DECLINE,
    sms.Action.ARRIVED: answers.Answer.ARRIVED,
    sms.Action.DONE: answers.Answer.DONE,
}
_STALE: dict[str, str] = {
    answers.Result.TAKEN: ReplyOutcome.STALE,
    answers.Result.CLOSED: ReplyOutcome.STALE,
    answers.Result.MERGED: ReplyOutcome.STALE,
    answers.Result.NOT_YOURS: ReplyOutcome.UNKNOWN_CODE,
    answers.Result.DUPLICATE: ReplyOutcome.NO_EFFECT,
    answers.Result.NOT_NOW: ReplyOutcome.NO_EFFECT,
}


@dataclass
class Handled:
    outcome: str
    callout: Callout | None = None
    reply: dict[str, Any] | None = None  # the crisis_reply message's context
    quiet: bool = True  # the reply confirms nothing: it counts against the allowance


def responder_by_phone(phone: str) -> Member | None:
    """The crisis-team member whose register phone this is, or None. Someone who is not
    (or no longer, and never was) on a crisis team is an unknown number here."""
    try:
        normalised = normalise_phone(phone)
    except ValidationError:
        return None
    if not normalised:
        return None
    member = (
        Member.objects.filter(phone_hash=keyed_hash(normalised)).select_related("branch").first()
    )
    if member is None:
        return None
    on_team = (
        RoleAssignment.objects.current().filter(member=member, role__in=CRISIS_ROLES).exists()
        or Dispatch.objects.filter(responder=member).exists()
    )
    return member if on_team else None


def open_codes(member: Member) -> list[tuple[int, str]]:
    """(call-out id, code) of the call-outs waiting for this responder's answer or action."""
    rows = (
        Dispatch.objects.filter(
            Q(
                state=DispatchState.ALERTED,
                callout__status__in=(CalloutStatus.REPORTED, CalloutStatus.DISPATCHED),
            )
            | Q(
                state=DispatchState.ACCEPTED,
                callout__status__in=(CalloutStatus.ACKNOWLEDGED, CalloutStatus.ON_SCENE),
            ),
            responder=member,
            callout__merged_into__isnull=True,
        )
        .values_list("callout_id", "callout__code")
        .order_by("callout_id")
        .distinct()
    )
    return list(rows)


def _quiet_allowance_left(member: Member) -> bool:
    last_alert = Dispatch.objects.filter(responder=member).aggregate(at=Max("alerted_at"))["at"]
    sent = InboundSms.objects.filter(member=member, quiet_reply=True)
    if last_alert is not None:
        sent = sent.filter(received_at__gte=last_alert)
    return sent.count() < QUIET_REPLIES


def _handle(member: Member, parsed: sms.Parsed, now: datetime) -> Handled:
    if parsed.action == sms.Action.HELP:
        keywords = settings_for(member.branch).keywords or {}
        return Handled(ReplyOutcome.HELP, reply={"reply": "help", "words": keywords})
    if parsed.action == sms.Action.STOP:
        answers.mark_unreachable(member=member, now=now)
        return Handled(ReplyOutcome.STOP, reply={"reply": "stop"}, quiet=False)
    if parsed.action is None:
        return Handled(ReplyOutcome.UNREADABLE, reply={"reply": "unreadable"})
    mine = open_codes(member)
    if parsed.code is not None:
        callout = (
            Callout.objects.filter(code=parsed.code, dispatches__responder=member)
            .order_by("-reported_at")
            .first()
        )
        if callout is None:
            return Handled(
                ReplyOutcome.UNKNOWN_CODE,
                reply={
                    "reply": "not_yours",
                    "code": parsed.code,
                    "codes": ", ".join(code for _id, code in mine),
                },
            )
    elif len(mine) == 1:
        callout = Callout.objects.get(pk=mine[0][0])
    elif not mine:
        return Handled(ReplyOutcome.NONE_OPEN, reply={"reply": "none_open"})
    else:
        listed = [code for _id, code in mine]
        return Handled(
            ReplyOutcome.AMBIGUOUS,
            reply={"reply": "which", "codes": ", ".join(listed), "first": listed[0]},
        )
    answered = answers.answer_callout(
        member=member, callout=callout, answer=_ACTIONS[parsed.action], channel="sms", now=now
    )
    reply = {
        "reply": answered.result.value,
        "code": callout.code,
        "role": answered.role,
        "other": answered.other_code,
    }
    if answered.acted:
        return Handled(ReplyOutcome.ACCEPTED, callout, reply, quiet=False)
    return Handled(_STALE[answered.result], callout, reply)


def receive_reply(inbound: Inbound, now: datetime | None = None) -> InboundSms | None:
    """Handle one reply from the provider. Returns None for a message already handled
    (the provider sent it again): nothing happens and nothing is sent."""
    now = now or timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                row = InboundSms.objects.create(
                    provider=inbound.provider, message_id=inbound.message_id, received_at=now
                )
        except IntegrityError:
            log.info("crisis sms: a repeated %s message was ignored", inbound.provider)
            return None
        member = responder_by_phone(inbound.phone)
        if member is None:
            row.outcome = ReplyOutcome.UNKNOWN_NUMBER
            row.save(update_fields=["outcome"])
            log.info("crisis sms %s: unknown number, no effect", row.pk)
            return row
        handled = _handle(
            member, sms.parse(inbound.text, settings_for(member.branch).keywords), now
        )
        row.member = member
        row.callout = handled.callout
        row.outcome = handled.outcome
        if handled.reply is not None and (not handled.quiet or _quiet_allowance_left(member)):
            row.quiet_reply = handled.quiet
            notify_member(
                member=member,
                kind="crisis_reply",
                dedupe_key=f"crisis-reply:{row.pk}",
                context=handled.reply,
            )
        row.save(update_fields=["member", "callout", "outcome", "quiet_reply"])
        log.info("crisis sms %s: %s", row.pk, handled.outcome)
    return row


def receive_delivery(status: DeliveryStatus, now: datetime | None = None) -> DeliveryReport | None:
    """Store a delivery report of an alert. A failed delivery moves the chain on at once
    (when that alert was the one escalation was waiting for); a delivery shows on the
    timeline with the minutes it took."""
    now = now or timezone.now()
    with transaction.atomic():
        try:
            with transaction.atomic():
                report = DeliveryReport.objects.create(
                    provider=status.provider,
                    message_id=status.message_id,
                    status=status.status,
                    failed=status.failed,
                    received_at=now,
                )
        except IntegrityError:
            return None
        sent = (
            Notification.objects.filter(
                provider_ref=status.message_id, dedupe_key__startswith="crisis-alert:"
            )
            .values_list("dedupe_key", flat=True)
            .first()
        )
        if sent is None:
            return report
        dispatch = (
            Dispatch.objects.filter(pk=int(sent.split(":", 1)[1]))
            .select_related("responder")
            .first()
        )
        if dispatch is None:
            return report
        report.dispatch = dispatch
        report.save(update_fields=["dispatch"])
        callout = lock_callout(dispatch.callout_id)
        dispatch.refresh_from_db()
        if status.failed:
            _delivery_failed(callout, dispatch, now)
        elif dispatch.delivered_at is None and status.status in ("Success", "delivered"):
            dispatch.delivered_at = now
            dispatch.save(update_fields=["delivered_at"])
            add_step(
                callout,
                StepKind.DELIVERED,
                at=now,
                member=dispatch.responder,
                role=dispatch.role,
                minutes=int((now - dispatch.alerted_at).total_seconds() // 60),
            )
    return report


def _delivery_failed(callout: Callout, dispatch: Dispatch, now: datetime) -> None:
    if dispatch.delivery_failed_at is not None:
        return
    dispatch.delivery_failed_at = now
    dispatch.save(update_fields=["delivery_failed_at"])
    add_step(
        callout, StepKind.DELIVERY_FAILED, at=now, member=dispatch.responder, role=dispatch.role
    )
    waiting_here = Dispatch.objects.filter(
        callout=callout,
        step=callout.chain_step,
        round=callout.chain_round,
        state=DispatchState.ALERTED,
        delivery_failed_at__isnull=True,
    ).exists()
    if (
        dispatch.state == DispatchState.ALERTED
        and (dispatch.step, dispatch.round) == (callout.chain_step, callout.chain_round)
        and callout.status in (CalloutStatus.REPORTED, CalloutStatus.DISPATCHED)
        and callout.merged_into_id is None
        and not waiting_here
    ):
        cancel_deadlines(callout)
        dispatching.advance_now(callout, now)
