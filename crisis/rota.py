"""Who is on duty when: the rota's clock arithmetic, in each branch's own time zone.

Shifts are kept in local clock time (handoffs at 08:00 stay at 08:00 across a change to or
from daylight-saving time), so an instant is first turned into the branch's local date,
weekday and time, then compared. Pure functions over loaded slots: no queries here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from crisis.models import Position, RotaSlot

UTC = ZoneInfo("UTC")


def zone(name: str) -> ZoneInfo:
    return ZoneInfo(name or "UTC")


def _active_on(slot: RotaSlot, day: date) -> bool:
    """The slot's shift starts on `day` (within its dates, on one of its weekdays)."""
    if day < slot.valid_from or (slot.valid_until is not None and day > slot.valid_until):
        return False
    return bool(slot.weekdays & (1 << day.weekday()))


def covers(slot: RotaSlot, local: datetime) -> bool:
    """The slot's responder is on duty at this local (branch) time."""
    day, clock = local.date(), local.time().replace(tzinfo=None)
    if not slot.overnight:
        return _active_on(slot, day) and slot.starts_at <= clock < slot.ends_at
    # Through midnight (or 24 hours): from the start to midnight on a shift's first day,
    # and from midnight to the end on the day after.
    if _active_on(slot, day) and clock >= slot.starts_at:
        return True
    return _active_on(slot, day - timedelta(days=1)) and clock < slot.ends_at


def in_force_on(slots: Iterable[RotaSlot], day: date) -> list[RotaSlot]:
    """The slots whose shift starts on `day`, a temporary slot replacing the regular ones
    of its position that day."""
    starting = [s for s in slots if _active_on(s, day)]
    temporary = {s.position for s in starting if s.temporary}
    return [s for s in starting if s.temporary or s.position not in temporary]


def on_duty(slots: Iterable[RotaSlot], at: datetime, tz: ZoneInfo) -> dict[str, list[RotaSlot]]:
    """The slots in force at `at` per position. Where a temporary slot (a rota for a date
    range, a swap) covers the time, it replaces the regular slots of its position."""
    local = at.astimezone(tz)
    found: dict[str, list[RotaSlot]] = {Position.PRIMARY: [], Position.BACKUP: []}
    for slot in slots:
        if covers(slot, local):
            found.setdefault(slot.position, []).append(slot)
    for position, covering in found.items():
        temporary = [s for s in covering if s.temporary]
        if temporary:
            found[position] = temporary
    return found


@dataclass(frozen=True)
class Gap:
    starts: datetime  # aware, in the branch's time zone
    ends: datetime

    @property
    def duration(self) -> timedelta:
        """Real time, not wall-clock time (the night of a change to summer time is short)."""
        return self.ends.astimezone(UTC) - self.starts.astimezone(UTC)


def _local_instant(day: date, clock: time, tz: ZoneInfo) -> datetime:
    """A local clock time on a day as a UTC instant. A time skipped by a change to summer
    time (02:30 on that night) is read with the offset before the change, which lands just
    after it; an hour repeated in autumn is its first occurrence."""
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


def gaps(
    slots: Iterable[RotaSlot], start: datetime, end: datetime, tz: ZoneInfo, position: str
) -> list[Gap]:
    """The stretches between `start` and `end` when nobody holds `position`.

    Exact, not sampled: coverage can only change at a shift's start or end, so each
    stretch between two such moments is checked once, at its middle. The arithmetic is
    in UTC: Python subtracts two times of one zone by their wall clocks, which is off by
    an hour across a daylight-saving change.
    """
    slots = [s for s in slots if s.position == position]
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    moments = {start, end}
    day = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date()
    while day <= last:
        for slot in slots:
            for clock in (slot.starts_at, slot.ends_at):
                moment = _local_instant(day, clock, tz)
                if start < moment < end:
                    moments.add(moment)
        day += timedelta(days=1)
    ordered = sorted(moments)
    found: list[Gap] = []
    for left, right in pairwise(ordered):
        middle = (left + (right - left) / 2).astimezone(tz)
        if any(covers(slot, middle) for slot in slots):
            continue
        if found and found[-1].ends == left.astimezone(tz):
            found[-1] = Gap(found[-1].starts, right.astimezone(tz))
        else:
            found.append(Gap(left.astimezone(tz), right.astimezone(tz)))
    return found
