"""Dispatch and escalation: who is alerted, and what happens when nobody answers.

The chain is primary -> backup -> coordinator, repeated `chain_repeats` times, then the
call-out shows as unanswered. A place in the chain with nobody on duty (or nobody who can
be reached) is skipped at once, in the same sweep. Every wait is a stored deadline row;
the sweep that runs every minute claims due rows with one conditional UPDATE ... RETURNING
under row locks taken with SKIP LOCKED, so two sweeps never fire one deadline twice and a
sweep killed half-way leaves the rows to the next one (its transaction rolls back).

A batch is set-based: one statement claims the deadlines and reads the call-outs' places,
two read who is on duty (the rota, the coordinators), the next place of every call-out is
worked out from those (the same few answers for every call-out of a branch), and one
statement writes every dispatch, timeline line, deadline and move, one more the outbox
rows. A sweep costs the same handful of queries for one call-out or ten thousand.
"""

from __future__ import annotations

import gc
import logging
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from crisis import rota
from crisis.models import (
    CHAIN,
    Callout,
    CalloutStatus,
    CalloutStep,
    CrisisSettings,
    DeadlineKind,
    DeadlineState,
    Dispatch,
    DispatchState,
    EscalationDeadline,
    Position,
    RotaSlot,
    StepKind,
    SweepHeartbeat,
    alert_key,
)
from crisis.services.common import settings_for
from union.models import Branch, Member, Role, RoleAssignment
from union.notifications.services import choose_channel, notify_members

log = logging.getLogger(__name__)

SWEEP = "escalation"
# A batch is one transaction and a dozen statements, whatever its size: even the worst
# minute (every open alert escalating at once) is one batch up to 10,000 call-outs.
SWEEP_BATCH = 10_000
SWEEP_MAX_BATCHES = 10
POSITIONS = (Position.PRIMARY, Position.BACKUP)  # the rota's part of the chain
CRISIS_ROLES = (Role.CRISIS_RESPONDER, Role.CRISIS_COORDINATOR)


def reachable(member: Member) -> bool:
    """An alert can reach them: the outbox has a channel (consent, a number), and they
    have not texted STOP."""
    state = getattr(member, "crisis_state", None)
    if state is not None and state.unreachable_since is not None:
        return False
    return bool(choose_channel(member))


@dataclass
class Roster:
    """Who can be alerted now, for a set of branches: loaded once per sweep batch."""

    now: datetime
    branches: dict[int, Branch]
    slots: dict[int, list[RotaSlot]]
    coordinators: dict[int, list[Member]]
    national: list[Member]
    _targets: dict[tuple[int, int], list[Member]] = field(default_factory=dict)
    plans: dict[tuple[int, str, int, int, int], Plan] = field(default_factory=dict)

    def settings(self, branch_id: int) -> CrisisSettings:
        return settings_for(self.branches[branch_id])

    def on_duty(self, branch_id: int, position: str) -> list[Member]:
        tz = rota.zone(self.branches[branch_id].time_zone)
        slots = rota.on_duty(self.slots.get(branch_id, []), self.now, tz)[position]
        return _unique([slot.responder for slot in slots])

    def targets(self, branch_id: int, step: int) -> list[Member]:
        """The people to alert at a place in the chain, or [] to skip it. The same for
        every call-out of a branch in one sweep (one `now`): worked out once."""
        key = (branch_id, step)
        if key not in self._targets:
            self._targets[key] = self._find_targets(branch_id, step)
        return self._targets[key]

    def _find_targets(self, branch_id: int, step: int) -> list[Member]:
        if step < len(POSITIONS):
            people = self.on_duty(branch_id, POSITIONS[step])
        else:
            # The branch's crisis coordinators; a branch without one falls to the national.
            people = self.coordinators.get(branch_id) or self.national
        return [m for m in people if reachable(m)]


def _unique(members: list[Member]) -> list[Member]:
    seen: set[int] = set()
    out = []
    for m in members:
        if m.pk not in seen:
            seen.add(m.pk)
            out.append(m)
    return out


def load_roster(branches: list[Branch], now: datetime) -> Roster:
    """Two queries: the rota slots around `now` and the current crisis coordinators.
    `branches` come with their crisis settings already loaded (select_related)."""
    ids = [b.pk for b in branches]
    # Local dates differ from UTC's by a day at most; a slot that began the day before
    # may still run (overnight).
    today = now.date()
    slots: dict[int, list[RotaSlot]] = defaultdict(list)
    # Only people who still hold a crisis role: a slot outlives a role that ended.
    on_team = RoleAssignment.objects.current().filter(
        member=OuterRef("responder"), role__in=CRISIS_ROLES
    )
    for slot in (
        RotaSlot.objects.filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=today - timedelta(days=2)),
            branch_id__in=ids,
            valid_from__lte=today + timedelta(days=1),
        )
        .filter(Exists(on_team))
        .select_related("responder", "responder__crisis_state")
    ):
        slots[slot.branch_id].append(slot)
    coordinators: dict[int, list[Member]] = defaultdict(list)
    national: list[Member] = []
    for assignment in (
        RoleAssignment.objects.current()
        .filter(Q(branch_id__in=ids) | Q(branch__is_national=True), role=Role.CRISIS_COORDINATOR)
        .select_related("member", "member__crisis_state", "branch")
        .order_by("id")
    ):
        if assignment.branch.is_national:
            national.append(assignment.member)
        else:
            coordinators[assignment.branch_id].append(assignment.member)
    return Roster(
        now=now,
        branches={b.pk: b for b in branches},
        slots=dict(slots),
        coordinators=dict(coordinators),
        national=_unique(national),
    )


def roster_for(branch: Branch, now: datetime | None = None) -> Roster:
    branch = Branch.objects.select_related("crisis_settings").get(pk=branch.pk)
    return load_roster([branch], now or timezone.now())


@dataclass
class Place:
    """Where a call-out stands in the chain: all the sweep reads of it (never the story)."""

    id: int
    branch_id: int
    status: str
    chain_step: int
    chain_round: int
    urgency: int
    code: str
    merged: bool = False

    @classmethod
    def of(cls, callout: Callout) -> Place:
        return cls(
            id=callout.pk,
            branch_id=callout.branch_id,
            status=callout.status,
            chain_step=callout.chain_step,
            chain_round=callout.chain_round,
            urgency=callout.urgency,
            code=callout.code,
            merged=callout.merged_into_id is not None,
        )


@dataclass(frozen=True)
class Move:
    """A call-out's new place, and what the move adds to its counters and times."""

    status: str
    step: int
    round: int
    escalated: bool
    dispatched: bool
    unanswered: bool


@dataclass
class Batch:
    """What a set of escalation decisions writes: plain values, saved set-based."""

    now: datetime
    alerts: list[tuple[Place, Member, int, int]] = field(default_factory=list)
    # (call-out id, kind, member id, role): the timeline lines, in order.
    steps: list[tuple[int, str, int | None, str]] = field(default_factory=list)
    deadlines: list[tuple[int, str, int]] = field(default_factory=list)  # minutes from now
    moves: dict[int, Move] = field(default_factory=dict)
    lapsed: list[int] = field(default_factory=list)  # dispatch ids
    reminders: list[tuple[Member, str, dict[str, Any]]] = field(default_factory=list)

    def step(self, place: Place, kind: str, member: Member | None = None, role: str = "") -> None:
        self.steps.append((place.id, kind, member.pk if member else None, role))

    def deadline(self, place: Place, kind: str, minutes: int) -> None:
        self.deadlines.append((place.id, kind, minutes))

    def save(self) -> list[int]:
        """Write everything; alerts and reminders go to the outbox (sent after commit).
        Returns the new dispatches' ids, in the order of `alerts`."""
        write = _write_sql if connection.vendor == "postgresql" else _write_orm
        sent = write(self)
        if sent:
            notify_members(
                kind="crisis_alert",
                messages_for=[
                    (member, alert_key(pk), {"code": place.code, "urgency": place.urgency})
                    for pk, (place, member, _step, _round) in zip(sent, self.alerts, strict=True)
                ],
                fresh=True,  # the dispatches were made just now: no alert can exist yet
            )
        if self.reminders:
            notify_members(kind="crisis_reminder", messages_for=self.reminders)
        return sent


_D, _C = Dispatch._meta.db_table, Callout._meta.db_table
_S, _E = CalloutStep._meta.db_table, EscalationDeadline._meta.db_table

# One statement for every write of a batch, whatever its size: each part reads its rows
# from arrays (unnest), so 10,000 escalations cost what one does in round trips.
# Data-modifying CTEs run to completion even when nothing reads them.
WRITE_SQL = f"""
WITH moved AS (
    UPDATE {_C} c SET status = m.status, chain_step = m.step, chain_round = m.round,
        escalations = c.escalations + m.escalated::int,
        dispatched_at = CASE WHEN m.dispatched THEN coalesce(c.dispatched_at, %(now)s)
                             ELSE c.dispatched_at END,
        unanswered_at = CASE WHEN m.unanswered THEN coalesce(c.unanswered_at, %(now)s)
                             ELSE c.unanswered_at END
    FROM unnest(%(m_id)s::bigint[], %(m_status)s::text[], %(m_step)s::int[],
                %(m_round)s::int[], %(m_escalated)s::bool[], %(m_dispatched)s::bool[],
                %(m_unanswered)s::bool[])
         AS m(id, status, step, round, escalated, dispatched, unanswered)
    WHERE c.id = m.id
    RETURNING c.id
), lapsed AS (
    UPDATE {_D} SET state = '{DispatchState.LAPSED}'
    WHERE id = ANY(%(lapsed)s::bigint[]) AND state = '{DispatchState.ACCEPTED}'
    RETURNING id
), steps AS (
    INSERT INTO {_S} (callout_id, kind, at, member_id, role, channel)
    SELECT s.callout_id, s.kind, %(now)s, s.member_id, s.role, ''
    FROM unnest(%(s_callout)s::bigint[], %(s_kind)s::text[], %(s_member)s::bigint[],
                %(s_role)s::text[]) WITH ORDINALITY AS s(callout_id, kind, member_id, role, n)
    ORDER BY s.n
    RETURNING id
), deadlines AS (
    INSERT INTO {_E} (callout_id, kind, due_at, state, created_at)
    SELECT e.callout_id, e.kind, %(now)s + e.minutes * interval '1 minute',
           '{DeadlineState.PENDING}', %(now)s
    FROM unnest(%(e_callout)s::bigint[], %(e_kind)s::text[], %(e_minutes)s::int[])
         AS e(callout_id, kind, minutes)
    RETURNING id
)
INSERT INTO {_D} (callout_id, responder_id, role, step, round, state, alerted_at)
SELECT a.callout_id, a.responder_id, a.role, a.step, a.round, '{DispatchState.ALERTED}',
       %(now)s
FROM unnest(%(a_callout)s::bigint[], %(a_member)s::bigint[], %(a_role)s::text[],
            %(a_step)s::int[], %(a_round)s::int[]) WITH ORDINALITY
     AS a(callout_id, responder_id, role, step, round, n)
ORDER BY a.n
RETURNING id, callout_id, responder_id
"""  # noqa: S608 (table names and states are the models' own constants)


def _write_sql(batch: Batch) -> list[int]:
    moves = list(batch.moves.items())
    params: dict[str, Any] = {
        "now": batch.now,
        "m_id": [pk for pk, _m in moves],
        "m_status": [m.status for _pk, m in moves],
        "m_step": [m.step for _pk, m in moves],
        "m_round": [m.round for _pk, m in moves],
        "m_escalated": [m.escalated for _pk, m in moves],
        "m_dispatched": [m.dispatched for _pk, m in moves],
        "m_unanswered": [m.unanswered for _pk, m in moves],
        "lapsed": batch.lapsed,
        "s_callout": [s[0] for s in batch.steps],
        "s_kind": [s[1] for s in batch.steps],
        "s_member": [s[2] for s in batch.steps],
        "s_role": [s[3] for s in batch.steps],
        "e_callout": [e[0] for e in batch.deadlines],
        "e_kind": [e[1] for e in batch.deadlines],
        "e_minutes": [e[2] for e in batch.deadlines],
        "a_callout": [place.id for place, _m, _s, _r in batch.alerts],
        "a_member": [member.pk for _p, member, _s, _r in batch.alerts],
        "a_role": [CHAIN[step] for _p, _m, step, _r in batch.alerts],
        "a_step": [step for _p, _m, step, _r in batch.alerts],
        "a_round": [rnd for _p, _m, _s, rnd in batch.alerts],
    }
    with connection.cursor() as cursor:
        cursor.execute(WRITE_SQL, params)
        ids = {(callout, member): pk for pk, callout, member in cursor.fetchall()}
    return [ids[place.id, member.pk] for place, member, _s, _r in batch.alerts]


def _write_orm(batch: Batch) -> list[int]:
    """The same writes through the ORM, for SQLite (the embedded default, one writer)."""
    dispatches = Dispatch.objects.bulk_create(
        [
            Dispatch(
                callout_id=place.id,
                responder=member,
                role=CHAIN[step],
                step=step,
                round=rnd,
                alerted_at=batch.now,
            )
            for place, member, step, rnd in batch.alerts
        ]
    )
    CalloutStep.objects.bulk_create(
        [
            CalloutStep(callout_id=c, kind=k, at=batch.now, member_id=m, role=r)
            for c, k, m, r in batch.steps
        ]
    )
    EscalationDeadline.objects.bulk_create(
        [
            EscalationDeadline(
                callout_id=c,
                kind=k,
                due_at=batch.now + timedelta(minutes=minutes),
                created_at=batch.now,
            )
            for c, k, minutes in batch.deadlines
        ]
    )
    if batch.lapsed:
        Dispatch.objects.filter(pk__in=batch.lapsed, state=DispatchState.ACCEPTED).update(
            state=DispatchState.LAPSED
        )
    for pk, m in batch.moves.items():
        Callout.objects.filter(pk=pk).update(
            status=m.status,
            chain_step=m.step,
            chain_round=m.round,
            escalations=F("escalations") + int(m.escalated),
            dispatched_at=Coalesce(F("dispatched_at"), Value(batch.now))
            if m.dispatched
            else F("dispatched_at"),
            unanswered_at=Coalesce(F("unanswered_at"), Value(batch.now))
            if m.unanswered
            else F("unanswered_at"),
        )
    return [d.pk for d in dispatches]


@dataclass(frozen=True)
class Plan:
    """What escalating a call-out from a given place does. It depends only on the branch,
    the place, the status and the urgency, so a sweep works it out once per such group
    and applies it to every call-out in the group."""

    move: Move
    steps: tuple[tuple[str, int | None, str], ...]  # kind, member id, role
    alerts: tuple[tuple[Member, int, int], ...]  # member, step, round
    deadline: tuple[str, int] | None  # kind, minutes


def plan(roster: Roster, branch_id: int, status: str, step: int, rnd: int, urgency: int) -> Plan:
    """The next place in the chain after (step, rnd) that has someone to alert, skipping
    empty ones now; or the same place again after a delay when the whole chain is empty;
    or, past the last repeat, unanswered."""
    settings = roster.settings(branch_id)
    delay = settings.answer_delay_minutes(urgency)
    first = step == -1 and rnd == 0
    here = (step, rnd)
    empty = 0
    while True:
        step += 1
        if step >= len(CHAIN):
            step, rnd = 0, rnd + 1
        if rnd > settings.chain_repeats:
            return Plan(
                Move(status, *here, escalated=False, dispatched=False, unanswered=True),
                ((StepKind.UNANSWERED, None, ""),),
                (),
                None,
            )
        targets = roster.targets(branch_id, step)
        if targets:
            break
        empty += 1
        if empty == len(CHAIN):
            # Nobody anywhere in the chain: keep the place, try again after the delay.
            return Plan(
                Move(status, step, rnd, escalated=False, dispatched=False, unanswered=False),
                ((StepKind.NOBODY, None, ""),),
                (),
                (DeadlineKind.ANSWER, delay),
            )
    if status in (CalloutStatus.REPORTED, CalloutStatus.ACKNOWLEDGED):
        status = CalloutStatus.DISPATCHED
    return Plan(
        Move(status, step, rnd, escalated=not first, dispatched=True, unanswered=False),
        tuple((StepKind.DISPATCHED, m.pk, CHAIN[step]) for m in targets),
        tuple((m, step, rnd) for m in targets),
        (DeadlineKind.ANSWER, delay),
    )


def advance(batch: Batch, place: Place, roster: Roster) -> None:
    """Move a call-out to the next place in the chain (see `plan`), alerting whoever is
    there."""
    key = (place.branch_id, place.status, place.chain_step, place.chain_round, place.urgency)
    chosen = roster.plans.get(key)
    if chosen is None:
        chosen = roster.plans[key] = plan(roster, *key)
    move = chosen.move
    place.status, place.chain_step, place.chain_round = move.status, move.step, move.round
    batch.moves[place.id] = move
    batch.steps.extend((place.id, kind, member, role) for kind, member, role in chosen.steps)
    batch.alerts.extend((place, member, step, rnd) for member, step, rnd in chosen.alerts)
    if chosen.deadline is not None:
        batch.deadlines.append((place.id, *chosen.deadline))


def advance_now(callout: Callout, now: datetime | None = None) -> None:
    """Escalate one call-out at once (a new call-out, a NO, a failed delivery). Call
    under the call-out's lock, after cancelling its pending deadline. The call-out
    object is brought up to date with what was written."""
    batch = Batch(now=now or timezone.now())
    place = Place.of(callout)
    advance(batch, place, roster_for(callout.branch, batch.now))
    batch.save()
    move = batch.moves[place.id]
    callout.status, callout.chain_step, callout.chain_round = move.status, move.step, move.round
    callout.escalations += int(move.escalated)
    if move.dispatched:
        callout.dispatched_at = callout.dispatched_at or batch.now
    if move.unanswered:
        callout.unanswered_at = callout.unanswered_at or batch.now


# --- the sweep -------------------------------------------------------------------------

# Claim the due deadlines and read their call-outs' places in one statement. The rows
# are locked (deadline and call-out, skipping those another sweep or an answer holds)
# and marked fired by a conditional UPDATE, so no two sweeps fire one deadline; a sweep
# killed before commit leaves them pending for the next.
CLAIM_SQL = f"""
WITH due AS (
    SELECT d.id FROM {_E} d JOIN {_C} c ON c.id = d.callout_id
    WHERE d.state = '{DeadlineState.PENDING}' AND d.due_at <= %(now)s
    ORDER BY d.due_at, d.id LIMIT %(limit)s
    FOR UPDATE OF d, c SKIP LOCKED
), claimed AS (
    UPDATE {_E} d SET state = '{DeadlineState.FIRED}', fired_at = %(now)s
    FROM due WHERE d.id = due.id AND d.state = '{DeadlineState.PENDING}'
    RETURNING d.id, d.kind, d.callout_id, d.due_at
)
SELECT k.id, k.kind, c.id, c.branch_id, c.status, c.chain_step, c.chain_round, c.urgency,
       c.code, c.merged_into_id IS NOT NULL
FROM claimed k JOIN {_C} c ON c.id = k.callout_id
ORDER BY k.due_at, k.id
"""  # noqa: S608 (table names and states are the models' own constants)


@dataclass(frozen=True)
class Due:
    """A claimed deadline and its call-out's place."""

    id: int
    kind: str
    place: Place


def _claim(now: datetime, limit: int) -> list[Due]:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(CLAIM_SQL, {"now": now, "limit": limit})
            return [
                Due(pk, kind, Place(cid, branch, status, step, rnd, urgency, code, merged))
                for pk, kind, cid, branch, status, step, rnd, urgency, code, merged in (
                    cursor.fetchall()
                )
            ]
    # SQLite runs one writing transaction at a time: claim row by row, keep what we won.
    due = (
        EscalationDeadline.objects.filter(state=DeadlineState.PENDING, due_at__lte=now)
        .select_related("callout")
        .defer("callout__narrative", "callout__area", "callout__person_description")
        .order_by("due_at", "id")[:limit]
    )
    return [
        Due(d.pk, d.kind, Place.of(d.callout))
        for d in due
        if EscalationDeadline.objects.filter(pk=d.pk, state=DeadlineState.PENDING).update(
            state=DeadlineState.FIRED, fired_at=now
        )
    ]


def _fire(batch: Batch, claimed: list[Due], roster: Roster) -> None:
    arrivals = [d.place.id for d in claimed if d.kind != DeadlineKind.ANSWER]
    accepted: dict[int, Dispatch] = {}
    if arrivals:
        accepted = {
            d.callout_id: d
            for d in Dispatch.objects.filter(
                callout_id__in=arrivals, state=DispatchState.ACCEPTED
            ).select_related("responder", "responder__crisis_state")
        }
    for due in claimed:
        place = due.place
        if place.merged:
            continue
        if due.kind == DeadlineKind.ANSWER:
            if place.status in (CalloutStatus.REPORTED, CalloutStatus.DISPATCHED):
                advance(batch, place, roster)
            continue
        taken = accepted.get(place.id)
        if place.status != CalloutStatus.ACKNOWLEDGED or taken is None:
            continue
        if due.kind == DeadlineKind.ARRIVAL:
            batch.reminders.append(
                (taken.responder, f"crisis-remind:{due.id}", {"code": place.code})
            )
            batch.step(place, StepKind.REMINDED, taken.responder, taken.role)
            batch.deadline(
                place,
                DeadlineKind.ARRIVAL_REMINDED,
                roster.settings(place.branch_id).answer_delay_minutes(place.urgency),
            )
        else:
            # Accepted, reminded, still not there: the next person is alerted.
            batch.lapsed.append(taken.pk)
            batch.step(place, StepKind.NO_ARRIVAL, taken.responder, taken.role)
            place.status = CalloutStatus.DISPATCHED
            advance(batch, place, roster)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Hold Python's cycle collector for one batch. A batch makes tens of thousands of
    small objects, which sets off full collections over the worker's whole heap (Django,
    Wagtail, Celery): measured at 10,000 escalations, 0.8 s of a 3.5 s sweep went there.
    The batch's objects hold no cycles; reference counting frees them, and the collector
    runs again as soon as the batch ends."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def sweep_once(now: datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """Fire up to `limit` due deadlines in one transaction. Returns how many."""
    now = now or timezone.now()
    with _collector_paused(), transaction.atomic():
        claimed = _claim(now, limit)
        if not claimed:
            return 0
        branches = Branch.objects.select_related("crisis_settings").filter(
            pk__in={d.place.branch_id for d in claimed}
        )
        roster = load_roster(list(branches), now)
        batch = Batch(now=now)
        _fire(batch, claimed, roster)
        batch.save()
    return len(claimed)


def sweep_escalations(now: datetime | None = None) -> int:
    """The every-minute job: fire every due deadline, in batches, and write the heartbeat."""
    total = 0
    for _batch in range(SWEEP_MAX_BATCHES):
        fired = sweep_once(now)
        total += fired
        if fired < SWEEP_BATCH:
            break
    beat(now)
    if total:
        log.info("crisis escalation sweep fired %d deadlines", total)
    return total


def beat(now: datetime | None = None) -> None:
    now = now or timezone.now()
    if not SweepHeartbeat.objects.filter(name=SWEEP).update(last_run_at=now):
        SweepHeartbeat.objects.get_or_create(name=SWEEP, defaults={"last_run_at": now})


def start_dispatch(callout: Callout, now: datetime | None = None) -> None:
    """Alert the first place in the chain with someone on duty, at once. Call in the
    transaction that created the call-out: the alert leaves when it commits."""
    advance_now(callout, now)
