"""Dues benchmarks. Entry point: run(members=..., events=...) -> list of result dicts
(name, figures, ok), like tests/bench/votes.py.

Needs PostgreSQL and a migrated database it may write to (the bench runner's test
database); it creates its own branches and members. Standalone:

    tests/with_services.sh .venv/bin/python -m tests.bench.dues [--members N] [--events N]

- monthly_run: the monthly charge of 100,000 active members through
  dues.services.runs.charge_period, against one hand-written
  INSERT ... SELECT ... ON CONFLICT DO NOTHING on the same members and table in the same
  run (other months, alternating, median of 3). Target: at least 0.5x the raw speed.
  The whole run (charge, settle advance payments, lapse members behind) is shown too.
- webhook: 10,000 signed checkout.session.completed deliveries, 10% of them repeats,
  through the real webhook view (signature check, storage, booking task run eagerly):
  events per second, and the proof that each payment was booked exactly once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import statistics
import time
import uuid
from datetime import date
from typing import Any

from django.db import connection

MEMBERS = 100_000
EVENTS = 10_000
DUPLICATE_SHARE = 0.10
WEBHOOK_SECRET = "whsec_bench"
RUN_TARGET = 0.5  # our run at least half as fast as the single raw statement


def _seed(members: int) -> tuple[list[Any], list[int]]:
    """Two branches with plans and `members` active members; returns (branches, member ids).

    The plans allow 24 grace months: the run measures charging, not the lapsing of members
    who never paid (bench_lapsing measures that on its own)."""
    from dues.services import plans
    from union.models import Branch, Member, MemberStatus, RegistrationSource

    national, _ = Branch.objects.get_or_create(
        code="BNAT", defaults={"name": "Bench national", "is_national": True}
    )
    branches = []
    for code, currency, monthly in (("BDA", "XOF", 1000), ("BDB", "ZAR", 5000)):
        branch, _ = Branch.objects.get_or_create(
            code=code,
            defaults={"name": f"Bench {code}", "currency": currency, "parent": national},
        )
        plans.set_dues_plan(
            actor=None,
            branch=branch,
            monthly_amount=monthly,
            solidarity_amount=monthly // 2,
            grace_months=24,
            confirm_threshold=monthly * 10,
        )
        branches.append(branch)
    batch = []
    for i in range(members):
        branch = branches[0] if i % 4 else branches[1]
        batch.append(
            Member(
                branch=branch,
                number=f"{branch.code}-{i:07d}",
                working_name=f"Bench member {i}",
                status=MemberStatus.ACTIVE,
                joined_on=date(2024, 1, 1),
                source=RegistrationSource.IMPORT,
            )
        )
    Member.objects.bulk_create(batch, batch_size=5000)
    ids = list(
        Member.objects.filter(branch__in=branches).order_by("id").values_list("id", flat=True)
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return branches, ids


RAW_SQL = """
INSERT INTO dues_ledgerentry (
    public_id, member_id, branch_id, kind, amount, currency, period, booked_on,
    method, provider, external_id, receipt_number, reason, needs_confirmation, recorded_at
)
SELECT gen_random_uuid(), m.id, m.branch_id, 'charge', p.monthly_amount, p.currency,
       %(period)s, %(period)s, '', '', '', '', '', false, now()
FROM union_member m JOIN dues_duesplan p ON p.branch_id = m.branch_id
WHERE m.status = 'active'
ON CONFLICT (member_id, period) DO NOTHING
"""


def _raw(period: date) -> tuple[float, int]:
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(RAW_SQL, {"period": period})
        count = cursor.rowcount
    return time.perf_counter() - start, count


def _ours(period: date) -> tuple[float, int]:
    from dues.services import runs

    start = time.perf_counter()
    result = runs.charge_period(period=period)
    return time.perf_counter() - start, result.charged


def bench_monthly_run(members: int, repeat: int = 3) -> dict[str, Any]:
    from dues.services import runs

    raw_times, our_times = [], []
    for i in range(repeat):
        # Alternate which goes first so neither always gets the warmer cache.
        raw_period, our_period = date(2026, 1 + 2 * i, 1), date(2026, 2 + 2 * i, 1)
        pair = [("raw", raw_period), ("ours", our_period)]
        if i % 2:
            pair.reverse()
        for which, period in pair:
            seconds, count = (_raw if which == "raw" else _ours)(period)
            assert count == members, f"{which} charged {count}, expected {members}"
            (raw_times if which == "raw" else our_times).append(seconds)
    raw, ours = statistics.median(raw_times), statistics.median(our_times)
    again, count = _ours(date(2026, 2, 1))  # every member already charged
    assert count == 0
    whole_start = time.perf_counter()
    runs.charge_period(period=date(2026, 12, 1))
    settled = runs.settle_credit()
    lapsed = runs.lapse_members_in_arrears()
    whole = time.perf_counter() - whole_start
    ratio = raw / ours
    return {
        "name": "dues.monthly_run",
        "members": members,
        "raw_s": raw,
        "ours_s": ours,
        "rerun_s": again,
        "whole_run_s": whole,
        "settled": settled,
        "lapsed": lapsed,
        "ratio": ratio,
        "target": RUN_TARGET,
        "ok": ratio >= RUN_TARGET,
    }


def _sign(payload: bytes) -> str:
    t = int(time.time())
    digest = hmac.new(WEBHOOK_SECRET.encode(), f"{t}.".encode() + payload, hashlib.sha256)
    return f"t={t},v1={digest.hexdigest()}"


def _event(n: int, customer: str) -> dict[str, Any]:
    return {
        "id": f"evt_bench_{n}",
        "object": "event",
        "api_version": "2026-10-28.endive",
        "created": int(time.time()),
        "livemode": False,
        "type": "checkout.session.completed",
        "data": {
            "object": {
                "id": f"cs_bench_{n}",
                "object": "checkout.session",
                "amount_total": 1000,
                "currency": "xof",
                "customer": customer,
                "customer_details": {"email": "payer@example.org", "name": "Card Holder"},
                "mode": "payment",
                "payment_intent": f"pi_bench_{n}",
                "payment_status": "paid",
                "status": "complete",
            }
        },
    }


def bench_webhook(member_ids: list[int], events: int) -> dict[str, Any]:
    """`member_ids` are members of an XOF branch (the events pay 1 000 XOF each)."""
    from django.conf import settings
    from django.test import Client

    from dues.models import DuesAccount, EntryKind, EventStatus, LedgerEntry, StripeEvent
    from union.celery import app as celery_app

    # One paying member per distinct event: with fewer members than events, fewer events.
    unique = min(round(events / (1 + DUPLICATE_SHARE)), len(member_ids))
    events = min(events, round(unique * (1 + DUPLICATE_SHARE)))
    payers = member_ids[:unique]
    DuesAccount.objects.bulk_create(
        [
            DuesAccount(
                member_id=pk, stripe_customer_id=f"cus_bench_{i}", reference=uuid.uuid4().hex
            )
            for i, pk in enumerate(payers)
        ],
        batch_size=5000,
    )
    bodies = [json.dumps(_event(i, f"cus_bench_{i}")).encode() for i in range(unique)]
    rng = random.Random(3)
    deliveries = bodies + [rng.choice(bodies) for _ in range(events - unique)]
    rng.shuffle(deliveries)

    settings.STRIPE_SECRET_KEY = "sk_test_bench"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_bench"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.ALLOWED_HOSTS = ["testserver"]
    celery_app.conf.task_always_eager = True  # the booking task runs at each commit
    client = Client()
    statuses: dict[int, int] = {}
    start = time.perf_counter()
    for payload in deliveries:
        response = client.post(
            "/dues/stripe/webhook/",
            data=payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=_sign(payload),
        )
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    seconds = time.perf_counter() - start
    celery_app.conf.task_always_eager = False

    payments = LedgerEntry.objects.filter(
        kind=EntryKind.PAYMENT, external_id__startswith="pi_bench_"
    )
    booked = payments.count()
    distinct = payments.values("external_id").distinct().count()
    stored = StripeEvent.objects.filter(event_id__startswith="evt_bench_")
    exactly_once = (
        statuses == {200: events}
        and stored.count() == unique
        and stored.filter(status=EventStatus.BOOKED).count() == unique
        and booked == distinct == unique
        and payments.values("member_id").distinct().count() == unique
    )
    return {
        "name": "dues.webhook",
        "deliveries": events,
        "unique_events": unique,
        "duplicates": events - unique,
        "seconds": seconds,
        "events_per_s": events / seconds,
        "payments_booked": booked,
        "distinct_payments": distinct,
        "events_stored": stored.count(),
        "exactly_once": exactly_once,
        "ok": exactly_once,
    }


def run(*, members: int = MEMBERS, events: int = EVENTS, repeat: int = 3) -> list[dict[str, Any]]:
    """Seed, then measure the monthly run and the webhook. Prints as it goes."""
    start = time.perf_counter()
    branches, ids = _seed(members)
    print(f"Seeded {len(ids):,} active members in {time.perf_counter() - start:.1f} s", flush=True)
    results = [bench_monthly_run(len(ids), repeat=repeat)]
    print(format_result(results[-1]), flush=True)
    from union.models import Member

    xof = list(
        Member.objects.filter(branch=branches[0]).order_by("id").values_list("id", flat=True)
    )
    results.append(bench_webhook(xof, events))
    print(format_result(results[-1]), flush=True)
    results.append(bench_lapsing(LAPSE_SAMPLE))
    print(format_result(results[-1]), flush=True)
    results.append(bench_reminders(REMINDER_SAMPLE))
    print(format_result(results[-1]), flush=True)
    return results


LAPSE_SAMPLE = 20_000


def _branch_with_plan(code: str, name: str, *, grace_months: int) -> Any:
    """An XOF branch of its own for one measurement, with a dues plan of 1,000 a month."""
    from dues.services import plans
    from union.models import Branch

    branch, _ = Branch.objects.get_or_create(code=code, defaults={"name": name, "currency": "XOF"})
    plans.set_dues_plan(
        actor=None,
        branch=branch,
        monthly_amount=1000,
        solidarity_amount=500,
        grace_months=grace_months,
        confirm_threshold=10000,
    )
    return branch


def bench_lapsing(sample: int) -> dict[str, Any]:
    """Members who fell behind lapse (status, status history and audit rows), against the
    floor: one raw UPDATE of the same members' status, run first and then undone."""
    from dues import money
    from dues.services import runs
    from union.models import Member, MemberStatus, RegistrationSource

    branch = _branch_with_plan("BDC", "Bench lapsing", grace_months=0)
    Member.objects.bulk_create(
        [
            Member(
                branch=branch,
                number=f"BDC-{i:07d}",
                working_name=f"Bench behind {i}",
                status=MemberStatus.ACTIVE,
                joined_on=date(2024, 1, 1),
                source=RegistrationSource.IMPORT,
            )
            for i in range(sample)
        ]
    )
    last_month = money.add_months(money.month_start(money.local_today(branch.time_zone)), -1)
    runs.charge_period(period=last_month, branch=branch)
    with connection.cursor() as cursor:
        start = time.perf_counter()
        cursor.execute(
            "UPDATE union_member SET status = %s, status_changed_at = now()"
            " WHERE branch_id = %s AND status = %s",
            [MemberStatus.LAPSED, branch.pk, MemberStatus.ACTIVE],
        )
        raw = time.perf_counter() - start
        cursor.execute(
            "UPDATE union_member SET status = %s WHERE branch_id = %s",
            [MemberStatus.ACTIVE, branch.pk],
        )
        cursor.execute("VACUUM ANALYZE union_member")  # the undo's dead rows gone
    start = time.perf_counter()
    lapsed = runs.lapse_members_in_arrears(branch=branch)
    seconds = time.perf_counter() - start
    return {
        "name": "dues.lapsing",
        "members": sample,
        "lapsed": lapsed,
        "seconds": seconds,
        "raw_s": raw,
        "ms_per_member": seconds / max(lapsed, 1) * 1000,
        "ok": lapsed == sample,
    }


REMINDER_SAMPLE = 20_000


def bench_reminders(sample: int) -> dict[str, Any]:
    """Monthly reminders for members one month behind who agreed to texts: each rendered
    in the member's language, encrypted, written to the outbox and queued for sending on
    the broker. The floor: the same number of ready-made outbox rows in one bulk insert."""
    from dues import money
    from dues.services import runs
    from union.models import (
        ContactPreference,
        Member,
        MemberStatus,
        Notification,
        RegistrationSource,
    )
    from union.services.members import _phone_hash

    branch = _branch_with_plan("BRM", "Bench reminders", grace_months=24)
    phones = [f"+22379{i:06d}" for i in range(sample)]
    members = Member.objects.bulk_create(
        [
            Member(
                branch=branch,
                number=f"BRM-{i:07d}",
                working_name=f"Bench reminded {i}",
                status=MemberStatus.ACTIVE,
                joined_on=date(2024, 1, 1),
                source=RegistrationSource.IMPORT,
                phone=phone,
                phone_hash=_phone_hash(phone),
                contact_preference=ContactPreference.SMS,
                consent_sms=True,
                preferred_language="fr" if i % 2 else "en",
            )
            for i, phone in enumerate(phones)
        ],
        batch_size=5000,
    )
    today = money.local_today(branch.time_zone)
    this_month = money.month_start(today)
    for period in (money.add_months(this_month, -1), this_month):  # last month is unpaid
        runs.charge_period(period=period, branch=branch)

    body = "Rappel : 1 mois de cotisation en retard (1 000 XOF)."
    floor_rows = [
        Notification(
            member=m, kind="bench_floor", channel="sms", body=body, dedupe_key=f"bench:{m.pk}"
        )
        for m in members
    ]
    start = time.perf_counter()
    Notification.objects.bulk_create(floor_rows, batch_size=runs.REMINDER_CHUNK)
    floor = time.perf_counter() - start
    Notification.objects.filter(kind="bench_floor").delete()

    start = time.perf_counter()
    queued = runs.queue_reminders(branch=branch, today=today)
    seconds = time.perf_counter() - start
    written = Notification.objects.filter(kind="dues_reminder", member__branch=branch).count()
    again = runs.queue_reminders(branch=branch, today=today)
    return {
        "name": "dues.reminders",
        "members": sample,
        "queued": queued,
        "seconds": seconds,
        "floor_s": floor,
        "ms_per_member": seconds / max(queued, 1) * 1000,
        "ok": queued == written == sample
        and again == sample
        and Notification.objects.filter(kind="dues_reminder", member__branch=branch).count()
        == sample,
    }


def format_result(result: dict[str, Any]) -> str:
    if result["name"] == "dues.reminders":
        return (
            f"== Reminders to {result['members']:,} members one month behind ==\n"
            f"   {result['queued']:,} written and queued in {result['seconds']:.2f} s "
            f"({result['ms_per_member']:.2f} ms each: rendered, encrypted, sent to the broker)\n"
            f"   floor, the same number of ready-made rows in one bulk insert: "
            f"{result['floor_s']:.2f} s "
            f"(ratio floor/ours {result['floor_s'] / result['seconds']:.2f}x)"
            f"; run again: nothing new ({'yes' if result['ok'] else 'NO'})"
        )
    if result["name"] == "dues.lapsing":
        return (
            f"== Lapsing {result['members']:,} members behind beyond grace ==\n"
            f"   {result['lapsed']:,} lapsed in {result['seconds']:.2f} s "
            f"({result['ms_per_member']:.2f} ms each, status history and audit rows included)\n"
            f"   one raw UPDATE of their status alone: {result['raw_s']:.2f} s "
            f"(ratio raw/ours {result['raw_s'] / result['seconds']:.2f}x)"
        )
    if result["name"] == "dues.monthly_run":
        rows = [
            ("one raw INSERT ... SELECT ... ON CONFLICT DO NOTHING", result["raw_s"]),
            ("dues.services.runs.charge_period", result["ours_s"]),
            ("the same month again (nothing to charge)", result["rerun_s"]),
            ("whole run: charge + settle advances + lapse check", result["whole_run_s"]),
        ]
        verdict = "meets" if result["ok"] else "BELOW"
        return "\n".join(
            [f"== Monthly dues run, {result['members']:,} active members (median of 3) =="]
            + [f"   {label:<56} {seconds:7.2f} s" for label, seconds in rows]
            + [
                f"   ratio raw/ours {result['ratio']:.2f}x "
                f"(target >= {result['target']}x: {verdict})"
            ]
        )
    return (
        f"== Stripe webhook, {result['deliveries']:,} signed deliveries "
        f"({result['duplicates']:,} repeats) ==\n"
        f"   {result['seconds']:.1f} s, {result['events_per_s']:,.0f} events/s end to end "
        f"(verify, store, book)\n"
        f"   {result['events_stored']:,} events stored, {result['payments_booked']:,} payments "
        f"booked, {result['distinct_payments']:,} distinct: exactly once "
        f"{'yes' if result['exactly_once'] else 'NO'}"
    )


def main() -> int:
    """Standalone: a throwaway test database in the PostgreSQL of DATABASE_URL."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tests.bench.dues")
    parser.add_argument("--members", type=int, default=MEMBERS)
    parser.add_argument("--events", type=int, default=EVENTS)
    parser.add_argument(
        "--only-lapsing", type=int, metavar="MEMBERS", help="only the lapsing of MEMBERS members"
    )
    parser.add_argument(
        "--only-reminders", type=int, metavar="MEMBERS", help="only reminders to MEMBERS members"
    )
    args = parser.parse_args()
    from tests.bench.standalone import fresh_test_database

    with fresh_test_database():
        if args.only_lapsing:
            results = [bench_lapsing(args.only_lapsing)]
            print(format_result(results[0]), flush=True)
        elif args.only_reminders:
            results = [bench_reminders(args.only_reminders)]
            print(format_result(results[0]), flush=True)
        else:
            results = run(members=args.members, events=args.events)
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
