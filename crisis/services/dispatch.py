"""Dispatch and escalation: who is alerted, and what happens when nobody answers.

The chain is primary -> backup -> coordinator, repeated `chain_repeats` times, then the
call-out shows as unanswered. A place in the chain with nobody on duty (or nobody who can
be reached) is skipped at once, in the same sweep. Every wait is a stored deadline row;
the sweep that runs every minute claims due rows with a conditional UPDATE under
row locks taken with SKIP LOCKED, so two sweeps never fire one deadline twice and a
sweep killed half-way leaves the rows to the next one (its transaction rolls back).

Everything for a batch of deadlines is computed in memory from a few set-based reads
(the rota, the coordinators) and written with one statement per table, so a sweep costs
the same dozen queries for one call-out or a thousand.
"""

from __future__ import annotations

import logging
from collections import defaultdict
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
class Batch:
    """What a set of escalation decisions writes, saved with one statement per table."""

    now: datetime
    dispatches: list[tuple[Dispatch, Member]] = field(default_factory=list)
    steps: list[CalloutStep] = field(default_factory=list)
    deadlines: list[EscalationDeadline] = field(default_factory=list)
    # Call-outs moved along the chain, grouped by what changes: one UPDATE per group
    # (a sweep has a handful), where Django's bulk_update would build a CASE per row and
    # field, quadratic in the batch (19 s of Python and SQL for 2,000 rows when measured).
    moves: dict[tuple[str, int, int, bool, bool, bool], list[int]] = field(
        default_factory=lambda: defaultdict(list)
    )
    lapsed: list[int] = field(default_factory=list)  # dispatch ids
    reminders: list[tuple[Member, str, dict[str, Any]]] = field(default_factory=list)

    def step(self, callout: Callout, kind: str, **fields: Any) -> None:
        self.steps.append(CalloutStep(callout=callout, kind=kind, at=self.now, **fields))

    def deadline(self, callout: Callout, kind: str, minutes: int) -> None:
        self.deadlines.append(
            EscalationDeadline(
                callout=callout,
                kind=kind,
                due_at=self.now + timedelta(minutes=minutes),
                created_at=self.now,
            )
        )

    def move(
        self,
        callout: Callout,
        *,
        escalated: bool = False,
        dispatched: bool = False,
        unanswered: bool = False,
    ) -> None:
        """Record the call-out's new place (already set on the object)."""
        key = (
            callout.status,
            callout.chain_step,
            callout.chain_round,
            escalated,
            dispatched,
            unanswered,
        )
        self.moves[key].append(callout.pk)

    def _save_moves(self) -> None:
        for (status, step, rnd, escalated, dispatched, unanswered), ids in self.moves.items():
            Callout.objects.filter(pk__in=ids).update(
                status=status,
                chain_step=step,
                chain_round=rnd,
                escalations=F("escalations") + int(escalated),
                dispatched_at=Coalesce(F("dispatched_at"), Value(self.now))
                if dispatched
                else F("dispatched_at"),
                unanswered_at=Coalesce(F("unanswered_at"), Value(self.now))
                if unanswered
                else F("unanswered_at"),
            )

    def save(self) -> None:
        """Write everything; alerts and reminders go to the outbox (sent after commit)."""
        if self.dispatches:
            Dispatch.objects.bulk_create([d for d, _m in self.dispatches])
        if self.steps:
            CalloutStep.objects.bulk_create(self.steps)
        if self.deadlines:
            EscalationDeadline.objects.bulk_create(self.deadlines)
        if self.lapsed:
            Dispatch.objects.filter(pk__in=self.lapsed, state=DispatchState.ACCEPTED).update(
                state=DispatchState.LAPSED
            )
        self._save_moves()
        if self.dispatches:
            notify_members(
                kind="crisis_alert",
                messages_for=[
                    (member, d.dedupe_key, {"code": d.callout.code, "urgency": d.callout.urgency})
                    for d, member in self.dispatches
                ],
            )
        if self.reminders:
            notify_members(kind="crisis_reminder", messages_for=self.reminders)


def advance(batch: Batch, callout: Callout, roster: Roster) -> None:
    """Alert the next place in the chain after the call-out's position that has someone
    to alert, skipping empty ones now; or wait a delay and try again when the whole
    chain is empty; or, past the last repeat, mark the call-out unanswered."""
    settings = roster.settings(callout.branch_id)
    first = callout.chain_step == -1 and callout.chain_round == 0
    step, rnd = callout.chain_step, callout.chain_round
    empty = 0
    while True:
        step += 1
        if step >= len(CHAIN):
            step, rnd = 0, rnd + 1
        if rnd > settings.chain_repeats:
            callout.unanswered_at = callout.unanswered_at or batch.now
            batch.move(callout, unanswered=True)
            batch.step(callout, StepKind.UNANSWERED)
            return
        targets = roster.targets(callout.branch_id, step)
        if targets:
            break
        empty += 1
        if empty == len(CHAIN):
            # Nobody anywhere in the chain: keep the place, try again after the delay.
            callout.chain_step, callout.chain_round = step, rnd
            batch.move(callout)
            batch.step(callout, StepKind.NOBODY)
            batch.deadline(
                callout, DeadlineKind.ANSWER, settings.answer_delay_minutes(callout.urgency)
            )
            return
    for member in targets:
        dispatch = Dispatch(
            callout=callout,
            responder=member,
            role=CHAIN[step],
            step=step,
            round=rnd,
            alerted_at=batch.now,
        )
        batch.dispatches.append((dispatch, member))
        batch.step(callout, StepKind.DISPATCHED, member=member, role=CHAIN[step])
    if callout.status in (CalloutStatus.REPORTED, CalloutStatus.ACKNOWLEDGED):
        callout.status = CalloutStatus.DISPATCHED
    callout.dispatched_at = callout.dispatched_at or batch.now
    if not first:
        callout.escalations += 1
    callout.chain_step, callout.chain_round = step, rnd
    batch.move(callout, escalated=not first, dispatched=True)
    batch.deadline(callout, DeadlineKind.ANSWER, settings.answer_delay_minutes(callout.urgency))


def advance_now(callout: Callout, now: datetime | None = None) -> None:
    """Escalate one call-out at once (a new call-out, a NO, a failed delivery). Call
    under the call-out's lock, after cancelling its pending deadline."""
    batch = Batch(now=now or timezone.now())
    advance(batch, callout, roster_for(callout.branch, batch.now))
    batch.save()


# --- the sweep -------------------------------------------------------------------------


def _claim(now: datetime, limit: int) -> list[EscalationDeadline]:
    """Take due deadlines: lock them and their call-outs (skipping rows another sweep or
    an answer holds), then mark them fired with a conditional UPDATE."""
    due = list(
        EscalationDeadline.objects.select_for_update(skip_locked=True, of=("self", "callout"))
        .filter(state=DeadlineState.PENDING, due_at__lte=now)
        .select_related("callout", "callout__branch", "callout__branch__crisis_settings")
        # The sweep never reads the stories: no decrypting them for nothing.
        .defer("callout__narrative", "callout__area", "callout__person_description")
        .order_by("due_at")[:limit]
    )
    if not due:
        return []
    if connection.features.has_select_for_update_skip_locked:
        # The rows are locked by us: the conditional UPDATE takes all of them.
        EscalationDeadline.objects.filter(
            pk__in=[d.pk for d in due], state=DeadlineState.PENDING
        ).update(state=DeadlineState.FIRED, fired_at=now)
        return due
    # Without row locks (SQLite, which runs one writing transaction at a time anyway):
    # claim row by row and keep the rows this sweep won.
    return [
        d
        for d in due
        if EscalationDeadline.objects.filter(pk=d.pk, state=DeadlineState.PENDING).update(
            state=DeadlineState.FIRED, fired_at=now
        )
    ]


def _fire(batch: Batch, deadlines: list[EscalationDeadline], roster: Roster) -> None:
    arrivals = [d.callout_id for d in deadlines if d.kind != DeadlineKind.ANSWER]
    accepted: dict[int, Dispatch] = {}
    if arrivals:
        accepted = {
            d.callout_id: d
            for d in Dispatch.objects.filter(
                callout_id__in=arrivals, state=DispatchState.ACCEPTED
            ).select_related("responder")
        }
    for deadline in deadlines:
        callout = deadline.callout
        if callout.merged_into_id is not None:
            continue
        settings = roster.settings(callout.branch_id)
        if deadline.kind == DeadlineKind.ANSWER:
            if callout.status in (CalloutStatus.REPORTED, CalloutStatus.DISPATCHED):
                advance(batch, callout, roster)
            continue
        taken = accepted.get(callout.pk)
        if callout.status != CalloutStatus.ACKNOWLEDGED or taken is None:
            continue
        if deadline.kind == DeadlineKind.ARRIVAL:
            batch.reminders.append(
                (taken.responder, f"crisis-remind:{deadline.pk}", {"code": callout.code})
            )
            batch.step(callout, StepKind.REMINDED, member=taken.responder, role=taken.role)
            batch.deadline(
                callout,
                DeadlineKind.ARRIVAL_REMINDED,
                settings.answer_delay_minutes(callout.urgency),
            )
        else:
            # Accepted, reminded, still not there: the next person is alerted.
            batch.lapsed.append(taken.pk)
            batch.step(callout, StepKind.NO_ARRIVAL, member=taken.responder, role=taken.role)
            callout.status = CalloutStatus.DISPATCHED
            advance(batch, callout, roster)


def sweep_once(now: datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """Fire up to `limit` due deadlines in one transaction. Returns how many."""
    now = now or timezone.now()
    with transaction.atomic():
        deadlines = _claim(now, limit)
        if not deadlines:
            return 0
        branches = {d.callout.branch_id: d.callout.branch for d in deadlines}
        roster = load_roster(list(branches.values()), now)
        batch = Batch(now=now)
        _fire(batch, deadlines, roster)
        batch.save()
    return len(deadlines)


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
