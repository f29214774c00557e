"""Housekeeping: the sweep's watchdog, freeing reply codes."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crisis.models import Callout, SweepHeartbeat
from crisis.services.common import CODE_HELD_DAYS
from crisis.services.dispatch import SWEEP
from union.models import Role, RoleAssignment
from union.notifications.services import notify_members

log = logging.getLogger(__name__)

STALL_AFTER = timedelta(minutes=3)
ALERT_EVERY = timedelta(hours=1)  # while it stays stalled, at most one text an hour


def check_sweep_heartbeat(now: datetime | None = None) -> bool:
    """True when the escalation sweep is alive. When it has not run for STALL_AFTER, log
    an error (for the operators' log monitoring) and text the national crisis
    coordinators (through the outbox), at most once an hour. A site that never ran the
    sweep (no heartbeat yet) is not stalled: it has never had a call-out to escalate."""
    now = now or timezone.now()
    with transaction.atomic():
        beat = SweepHeartbeat.objects.select_for_update().filter(name=SWEEP).first()
        if beat is None or now - beat.last_run_at < STALL_AFTER:
            return True
        minutes = int((now - beat.last_run_at).total_seconds() // 60)
        log.error("crisis escalation sweep has not run for %d minutes", minutes)
        if beat.last_alert_at is not None and now - beat.last_alert_at < ALERT_EVERY:
            return False
        beat.last_alert_at = now
        beat.save(update_fields=["last_alert_at"])
        coordinators = (
            RoleAssignment.objects.current()
            .filter(role=Role.CRISIS_COORDINATOR, branch__is_national=True)
            .select_related("member")
        )
        hour = now.strftime("%Y%m%d%H")
        notify_members(
            kind="crisis_sweep_stalled",
            messages_for=[
                (a.member, f"crisis-stalled:{a.member_id}:{hour}", {"minutes": minutes})
                for a in coordinators
            ],
        )
    return False


def release_reply_codes(now: datetime | None = None) -> int:
    """Free the codes of call-outs closed (or whose survivor closed) 30 days ago."""
    cutoff = (now or timezone.now()) - timedelta(days=CODE_HELD_DAYS)
    return Callout.objects.filter(
        Q(closed_at__lt=cutoff) | Q(merged_into__closed_at__lt=cutoff), code_held=True
    ).update(code_held=False)
