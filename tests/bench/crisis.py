"""Crisis benchmarks. Entry point: run() -> list of result dicts (name, figures, ok).

Needs PostgreSQL and a migrated database it may write to (the bench runner's test
database); it creates its own branches, crisis team and call-outs.

- sweep: the escalation sweep over 10,000 open dispatches whose answer deadline has passed
  (the worst minute: every one escalates from the primary to the backup), through
  crisis.services.dispatch.sweep_escalations, against hand-written SQL doing the same
  writes in one transaction (claim the deadlines, insert the backup's dispatches, the
  timeline lines, the new deadlines and the outbox rows, move the call-outs on). The
  outbox rows are written by both; handing them to Celery is the outbox's own cost and
  is left out of both. Alternating runs on fresh call-outs, best of each.
  Targets: at least 0.5x the hand-written speed, at most 10 queries.
- figures: the response figures (medians and 90th percentiles per branch and month, by
  type and outcome) over 1,000,000 closed call-outs, through crisis.figures, against the
  same three statements written by hand. Best of 3 each.
  Targets: at least 0.5x, at most 10 queries.

Standalone (creates and drops its own test database):

    tests/with_services.sh .venv/bin/python -m tests.bench.crisis [--dispatches N] [--callouts N]
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any
from unittest import mock

from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

DISPATCHES = 10_000
CALLOUTS = 1_000_000
TARGET_RATIO = 0.5
TARGET_QUERIES = 10


def _team() -> tuple[list[Any], dict[int, Any]]:
    """Two branches, each with a primary and a backup on the rota around the clock and a
    coordinator; every phone reachable. Returns (branches, {branch id: backup member})."""
    from crisis.models import Position, RotaSlot
    from union.crypto import keyed_hash
    from union.models import (
        Branch,
        ContactPreference,
        Member,
        MemberStatus,
        RegistrationSource,
        Role,
        RoleAssignment,
    )

    national, _ = Branch.objects.get_or_create(
        code="BNAT", defaults={"name": "Bench national", "is_national": True}
    )
    branches, backups = [], {}
    for n, code in enumerate(("BCA", "BCB")):
        branch, _ = Branch.objects.get_or_create(
            code=code, defaults={"name": f"Bench {code}", "parent": national}
        )
        branches.append(branch)
        people = {}
        for i, role in enumerate(("primary", "backup", "coordinator")):
            phone = f"+2237{n}{i}00000{n}"
            member = Member.objects.create(
                branch=branch,
                number=f"{code}-{i:06d}",
                working_name=f"Bench {role} {code}",
                status=MemberStatus.ACTIVE,
                source=RegistrationSource.IMPORT,
                phone=phone,
                phone_hash=keyed_hash(phone),
                consent_sms=True,
                contact_preference=ContactPreference.SMS,
            )
            RoleAssignment.objects.create(
                member=member,
                branch=branch,
                role=Role.CRISIS_COORDINATOR if role == "coordinator" else Role.CRISIS_RESPONDER,
                starts_on=date(2020, 1, 1),
            )
            people[role] = member
        for position in (Position.PRIMARY, Position.BACKUP):
            RotaSlot.objects.create(
                branch=branch,
                responder=people[position],
                position=position,
                starts_at=clock(0),
                ends_at=clock(0),
                valid_from=date(2020, 1, 1),
            )
        backups[branch.pk] = people["backup"]
    return branches, backups


def _seed_open(branches: list[Any], count: int, first_code: int) -> list[int]:
    """`count` dispatched call-outs, each alerted to its primary with an answer deadline
    already passed. Written in bulk: the seed is not what is measured."""
    from crisis.models import (
        Callout,
        CalloutStatus,
        DeadlineKind,
        Dispatch,
        DispatchRole,
        EscalationDeadline,
        Position,
        RotaSlot,
    )

    now = datetime.now(UTC)
    primaries = {
        s.branch_id: s.responder_id for s in RotaSlot.objects.filter(position=Position.PRIMARY)
    }
    callouts = Callout.objects.bulk_create(
        [
            Callout(
                branch=branches[i % 2],
                kind="arrest",
                urgency=2,
                source="helpline",
                status=CalloutStatus.DISPATCHED,
                code=str(first_code + i),
                reported_at=now - timedelta(minutes=15),
                dispatched_at=now - timedelta(minutes=15),
                chain_step=0,
            )
            for i in range(count)
        ],
        batch_size=5000,
    )
    Dispatch.objects.bulk_create(
        [
            Dispatch(
                callout=c,
                responder_id=primaries[c.branch_id],
                role=DispatchRole.PRIMARY,
                step=0,
                alerted_at=now - timedelta(minutes=15),
            )
            for c in callouts
        ],
        batch_size=5000,
    )
    EscalationDeadline.objects.bulk_create(
        [
            EscalationDeadline(
                callout=c, kind=DeadlineKind.ANSWER, due_at=now - timedelta(minutes=5)
            )
            for c in callouts
        ],
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return [c.pk for c in callouts]


HAND_SWEEP = """
WITH claimed AS (
    UPDATE crisis_escalationdeadline d SET state = 'fired', fired_at = %(now)s
    WHERE d.id IN (
        SELECT d2.id FROM crisis_escalationdeadline d2
        JOIN crisis_callout c ON c.id = d2.callout_id
        WHERE d2.state = 'pending' AND d2.due_at <= %(now)s
        ORDER BY d2.due_at LIMIT %(limit)s
        FOR UPDATE OF d2, c SKIP LOCKED
    ) AND d.state = 'pending'
    RETURNING d.callout_id
), moved AS (
    UPDATE crisis_callout c SET chain_step = 1, escalations = c.escalations + 1
    FROM claimed WHERE c.id = claimed.callout_id
    RETURNING c.id, c.branch_id
), sent AS (
    INSERT INTO crisis_dispatch (callout_id, responder_id, role, step, round, state, alerted_at)
    SELECT m.id, b.member_id, 'backup', 1, 0, 'alerted', %(now)s
    FROM moved m JOIN (SELECT unnest(%(branches)s::bigint[]) AS branch_id,
                              unnest(%(backups)s::bigint[]) AS member_id) b
      ON b.branch_id = m.branch_id
    RETURNING id, callout_id, responder_id
), steps AS (
    INSERT INTO crisis_calloutstep (callout_id, kind, at, member_id, role, channel)
    SELECT callout_id, 'dispatched', %(now)s, responder_id, 'backup', '' FROM sent
), deadlines AS (
    INSERT INTO crisis_escalationdeadline (callout_id, kind, due_at, state, created_at)
    SELECT id, 'answer', %(now)s + interval '10 minutes', 'pending', %(now)s FROM moved
)
INSERT INTO union_notification (member_id, kind, channel, subject, body, dedupe_key, status,
                                attempts, created_at, provider_ref, last_error)
SELECT responder_id, 'crisis_alert', 'sms', %(subject)s, %(body)s,
       'crisis-alert:' || id, 'pending', 0, %(now)s, '', ''
FROM sent
ON CONFLICT (dedupe_key) DO NOTHING
"""


def _hand_sweep(backups: dict[int, Any], limit: int) -> float:
    from union.crypto import encrypt

    params = {
        "now": datetime.now(UTC),
        "limit": limit,
        "branches": list(backups),
        "backups": [m.pk for m in backups.values()],
        # One ciphertext for all: SQL cannot run Fernet; ours encrypts each message.
        "subject": encrypt("Call-out 0000"),
        "body": encrypt("Call-out 0000. Reply OK 0000 if you go, NO 0000 if you cannot."),
    }
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(HAND_SWEEP, params)
    return time.perf_counter() - start


def _statements(captured: CaptureQueriesContext) -> int:
    """Queries, not counting BEGIN, COMMIT and savepoints."""
    control = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")
    return sum(
        1 for q in captured.captured_queries if not q["sql"].lstrip().upper().startswith(control)
    )


def _our_sweep() -> tuple[float, int, int]:
    from crisis.services import dispatch

    with (
        mock.patch("union.tasks.queue_notifications"),  # Celery is the outbox's cost
        CaptureQueriesContext(connection) as queries,
    ):
        start = time.perf_counter()
        fired = dispatch.sweep_escalations()
        seconds = time.perf_counter() - start
    return seconds, _statements(queries), fired


def bench_sweep(dispatches: int = DISPATCHES) -> dict[str, Any]:
    from crisis.models import Dispatch, DispatchRole
    from union.models import Notification

    branches, backups = _team()
    ours: list[float] = []
    hand: list[float] = []
    queries = fired = 0
    code = 100_000
    for _round in range(2):
        _seed_open(branches, dispatches, code)
        code += dispatches
        hand.append(_hand_sweep(backups, dispatches))
        _seed_open(branches, dispatches, code)
        code += dispatches
        seconds, queries, fired = _our_sweep()
        ours.append(seconds)
    backups_sent = Dispatch.objects.filter(role=DispatchRole.BACKUP).count()
    outbox = Notification.objects.filter(dedupe_key__startswith="crisis-alert:").count()
    ratio = min(hand) / min(ours)
    return {
        "name": f"crisis: escalation sweep over {dispatches:,} due dispatches",
        "ours_s": round(min(ours), 3),
        "hand_sql_s": round(min(hand), 3),
        "speed_vs_hand": round(ratio, 2),
        "queries": queries,
        "escalated_per_run": fired,
        "backup_dispatches_total": backups_sent,
        "outbox_rows_total": outbox,
        "ok": ratio >= TARGET_RATIO and queries <= TARGET_QUERIES and fired == dispatches,
    }


# --- figures -----------------------------------------------------------------------------

SEED_CLOSED = """
INSERT INTO crisis_callout (
    public_id, branch_id, kind, urgency, source, status, person_description, needs, area,
    narrative, outcome, code, code_held, reported_at, dispatched_at, acknowledged_at,
    arrived_at, resolved_at, closed_at, chain_step, chain_round, escalations, share_consent
)
SELECT gen_random_uuid(),
       (ARRAY[%(a)s, %(b)s]::bigint[])[1 + g %% 2],
       (ARRAY['arrest','raid','client_violence','partner_violence','police_violence',
              'eviction','health','other'])[1 + g %% 8],
       1 + g %% 3, 'helpline', 'closed', '', '[]'::jsonb, '', '',
       (ARRAY['helped','released','referred','not_reached','not_needed','other'])[1 + g %% 6],
       (100000 + g %% 900000)::text, false,
       r, r + interval '2 minutes',
       CASE WHEN g %% 10 = 0 THEN NULL ELSE r + (g %% 37 + 1) * interval '1 minute' END,
       CASE WHEN g %% 10 = 0 THEN NULL ELSE r + (g %% 97 + 10) * interval '1 minute' END,
       r + interval '3 hours', r + interval '1 day',
       2, 0, (g %% 7 = 0)::int, false
FROM generate_series(1, %(n)s) g,
     LATERAL (SELECT %(start)s::timestamptz + (g %% 365) * interval '1 day'
                     + (g %% 1440) * interval '1 minute' AS r) t
"""

_SPANS = [
    ("dispatched_at", "reported_at"),
    ("acknowledged_at", "dispatched_at"),
    ("arrived_at", "dispatched_at"),
]
_PERCENTILES = ",\n".join(
    f"percentile_cont({p}) WITHIN GROUP (ORDER BY extract(epoch FROM c.{a} - c.{b}))"
    for a, b in _SPANS
    for p in ("0.5", "0.9")
)
HAND_FIGURES = [
    # Built from constants above, no input: S608 is about interpolating user data.
    f"""
    SELECT c.branch_id, date_trunc('month', c.reported_at AT TIME ZONE b.time_zone)::date m,
           count(*),
           count(*) FILTER (WHERE c.acknowledged_at IS NULL),
           count(*) FILTER (WHERE c.escalations > 0),
           count(*) FILTER (WHERE c.unanswered_at IS NOT NULL),
           {_PERCENTILES}
    FROM crisis_callout c JOIN union_branch b ON b.id = c.branch_id
    WHERE c.branch_id = ANY(%(branches)s) AND c.merged_into_id IS NULL
      AND c.reported_at >= %(start)s AND c.reported_at < %(end)s
    GROUP BY 1, 2
    """,  # noqa: S608
    """
    SELECT c.branch_id, date_trunc('month', c.reported_at AT TIME ZONE b.time_zone)::date m,
           c.kind, count(*)
    FROM crisis_callout c JOIN union_branch b ON b.id = c.branch_id
    WHERE c.branch_id = ANY(%(branches)s) AND c.merged_into_id IS NULL
      AND c.reported_at >= %(start)s AND c.reported_at < %(end)s
    GROUP BY 1, 2, 3
    """,
    """
    SELECT c.branch_id, date_trunc('month', c.reported_at AT TIME ZONE b.time_zone)::date m,
           c.outcome, count(*)
    FROM crisis_callout c JOIN union_branch b ON b.id = c.branch_id
    WHERE c.branch_id = ANY(%(branches)s) AND c.merged_into_id IS NULL
      AND c.reported_at >= %(start)s AND c.reported_at < %(end)s
    GROUP BY 1, 2, 3
    """,
]


def bench_figures(callouts: int = CALLOUTS) -> dict[str, Any]:
    from crisis import figures
    from union.models import Branch

    national, _ = Branch.objects.get_or_create(
        code="BNAT", defaults={"name": "Bench national", "is_national": True}
    )
    branches = [
        Branch.objects.get_or_create(
            code=code, defaults={"name": f"Bench {code}", "parent": national, "time_zone": tz}
        )[0]
        for code, tz in (("BFA", "Africa/Bamako"), ("BFB", "Africa/Johannesburg"))
    ]
    start, end = datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
    t = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            SEED_CLOSED,
            {"a": branches[0].pk, "b": branches[1].pk, "n": callouts, "start": start},
        )
        cursor.execute("ANALYZE crisis_callout")
    seeded = time.perf_counter() - t
    params = {"branches": [b.pk for b in branches], "start": start, "end": end}
    ours, hand = [], []
    queries = 0
    rows: list[Any] = []
    for _ in range(3):
        with CaptureQueriesContext(connection) as captured:
            t = time.perf_counter()
            rows = figures.response_figures(branches, start, end)
            ours.append(time.perf_counter() - t)
        queries = _statements(captured)
        t = time.perf_counter()
        with connection.cursor() as cursor:
            for sql in HAND_FIGURES:
                cursor.execute(sql, params)
                cursor.fetchall()
        hand.append(time.perf_counter() - t)
    counted = sum(r.callouts for r in rows)
    ratio = min(hand) / min(ours)
    return {
        "name": f"crisis: response figures over {callouts:,} closed call-outs",
        "seeded_s": round(seeded, 1),
        "ours_s": round(min(ours), 3),
        "hand_sql_s": round(min(hand), 3),
        "speed_vs_hand": round(ratio, 2),
        "queries": queries,
        "branch_months": len(rows),
        "callouts_counted": counted,
        "ok": ratio >= TARGET_RATIO and queries <= TARGET_QUERIES and counted <= callouts,
    }


def run(*, dispatches: int = DISPATCHES, callouts: int = CALLOUTS) -> list[dict[str, Any]]:
    return [bench_sweep(dispatches), bench_figures(callouts)]


def report(results: list[dict[str, Any]]) -> list[str]:
    lines = ["", "== Crisis response =="]
    for result in results:
        lines.append(f"-- {result['name']}: {'meets target' if result['ok'] else 'BELOW TARGET'}")
        for key, value in result.items():
            if key not in ("name", "ok"):
                lines.append(f"   {key:<30} {value}")
    return lines


def main() -> int:
    import argparse

    from tests.bench.standalone import fresh_test_database

    parser = argparse.ArgumentParser(prog="python -m tests.bench.crisis", description=__doc__)
    parser.add_argument("--dispatches", type=int, default=DISPATCHES)
    parser.add_argument("--callouts", type=int, default=CALLOUTS)
    args = parser.parse_args()
    with fresh_test_database():
        print("\n".join(report(run(dispatches=args.dispatches, callouts=args.callouts))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
