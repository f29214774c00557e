"""The rota's own texts: a daily coverage check to the coordinators (gaps, or responders
an alert cannot reach, in the next 7 days), and a reminder the evening before a shift.

Both run from one hourly job and act at a local hour of each branch (its time zone); the
outbox's dedupe key makes each text exist once per branch (or slot) and day.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.utils import timezone

from crisis import rota, selectors
from crisis.models import RotaSlot
from union.models import Branch, Member, Role, RoleAssignment
from union.notifications.services import notify_members

COVERAGE_HOUR = 9  # local: the coordinator has the day to fix a gap
SHIFT_REMINDER_HOUR = 18  # local: the evening before


def _coordinators(branch: Branch) -> list[Member]:
    return [
        a.member
        for a in RoleAssignment.objects.current()
        .filter(branch=branch, role=Role.CRISIS_COORDINATOR)
        .select_related("member")
    ]


def send_rota_notices(now: datetime | None = None) -> int:
    """Hourly. Returns how many texts were queued (0 outside the two local hours)."""
    now = now or timezone.now()
    slots_by_branch: dict[int, list[RotaSlot]] = defaultdict(list)
    today = now.date()
    for slot in RotaSlot.objects.filter(
        valid_from__lte=today + timedelta(days=9),
    ).select_related("responder", "responder__crisis_state", "branch"):
        if slot.valid_until is None or slot.valid_until >= today - timedelta(days=1):
            slots_by_branch[slot.branch_id].append(slot)
    queued = 0
    for slots in slots_by_branch.values():
        branch = slots[0].branch
        local = now.astimezone(rota.zone(branch.time_zone))
        if local.hour == COVERAGE_HOUR:
            queued += _coverage(branch, slots, now, local)
        if local.hour == SHIFT_REMINDER_HOUR:
            queued += _shift_reminders(slots, local)
    return queued


def _coverage(branch: Branch, slots: list[RotaSlot], now: datetime, local: datetime) -> int:
    found = selectors.coverage(slots, branch, at=now)
    if not found.gaps and not found.unreachable:
        return 0
    first = found.gaps[0].starts if found.gaps else None  # formatted in her language
    context = {"gaps": len(found.gaps), "first": first, "unreachable": len(found.unreachable)}
    return notify_members(
        kind="crisis_coverage",
        messages_for=[
            (m, f"crisis-coverage:{branch.pk}:{local.date()}:{m.pk}", context)
            for m in _coordinators(branch)
        ],
    )


def _shift_reminders(slots: list[RotaSlot], local: datetime) -> int:
    tomorrow = local.date() + timedelta(days=1)
    batch = []
    for slot in rota.in_force_on(slots, tomorrow):
        batch.append(
            (
                slot.responder,
                f"crisis-shift:{slot.pk}:{tomorrow}",
                {"time": slot.starts_at.strftime("%H:%M")},
            )
        )
    return notify_members(kind="crisis_shift", messages_for=batch) if batch else 0
