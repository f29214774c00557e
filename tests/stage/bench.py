"""Benchmarks in the production shape (tests/stage/cluster.py), through nginx with TLS.

    .venv/bin/python -m tests.stage.bench                        # webhook + mixed
    .venv/bin/python -m tests.stage.bench --only webhook --events 2000
    make bench                                                   # this, after tests.bench,
                                                                 # and docs/benchmarks.md

- webhook: Stripe's webhook through nginx against a hello-world POST on the same servers
  (same clients, same TLS, interleaved halves), with 10 % of the deliveries repeated and
  shuffled in. The workers are stopped meanwhile, so the endpoint's figure is its own
  (verify, store, enqueue); then they are started and the booking rate is measured (first
  to last booking) against hand-written SQL booking another set of the same events with
  as many connections as the workers have processes (lock the event, find the account,
  insert the ledger row, mark the event; one transaction per event). Then: every event
  stored once, every payment booked once. Targets: endpoint >= 0.25x hello-world with
  p99 <= 50 ms; booking >= 0.25x the SQL. The throughput is measured with every client
  sending as fast as it is answered (so its p99 is queueing, whatever the endpoint does:
  the hello-world's own p99 is above 50 ms that way on this machine); the p99 target is
  measured as Stripe delivers, at a steady rate (--paced-rate, 50 deliveries/s: far above
  a union's card payments), latency counted from when each delivery was due.
- mixed: public pages, a member's pages, a ballot cast, a counter payment and webhooks,
  mixed as a union's traffic would be, at 8, 32 and 128 concurrent clients, with one web
  node and with two: requests/s, p50/p95/p99, errors (tests/stage/mixed.py).

Timings depend on the machine (2 cores here, shared with everything the stage runs and
with the clients): printed beside their targets, never turned into a failure. Exit
status 1 only if something was lost, doubled or failed.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import shlex
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.bench import server as bench_server
from tests.stage.cluster import REPO, WORKERS, Stage, log
from tests.stage.load import WEBHOOK, card_events, signed

CSRF_TOKEN = "StageCsrfSecret0123456789abcdefg"  # 32 characters: an unmasked CSRF secret
HELLO = "/bench/hello/"


@dataclass
class Row:
    """One line of docs/benchmarks.md."""

    benchmark: str
    figure: str
    baseline: str
    ratio: float | None
    target: str
    ok: bool | None  # None: for information, no target

    def markdown(self) -> str:
        ratio = f"{self.ratio:.2f}x" if self.ratio is not None else ""
        verdict = {True: "meets", False: "**below**", None: ""}[self.ok]
        return (
            f"| {self.benchmark} | {self.figure} | {self.baseline} | {ratio} | {self.target} "
            f"| {verdict} |"
        )


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def say(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)


def django_in(stage: Stage) -> None:
    """This process becomes one more node of the stage (for seeding and SQL baselines)."""
    os.environ.update(stage.node_env("bench"))
    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)


def seed(stage: Stage, tag: str, members: int) -> None:
    subprocess.run(
        [sys.executable, "-m", "tests.stage.actions", "seed", f"--tag={tag}",
         f"--members={members}", "--applicants=0"],
        cwd=REPO, env=stage.node_env("driver"), check=True, capture_output=True, timeout=1800,
    )  # fmt: skip


def hello_requests(stage: Stage, count: int) -> list[bench_server.Request]:
    headers = {
        "Host": f"127.0.0.1:{stage.https_port}",
        "Cookie": f"csrftoken={CSRF_TOKEN}",
        "Origin": stage.origin,
        "Content-Type": "application/x-www-form-urlencoded",
    }
    body = f"csrfmiddlewaretoken={CSRF_TOKEN}".encode()
    return [bench_server.Request(HELLO, body, headers) for _ in range(count)]


def webhook_requests(stage: Stage, bodies: list[bytes]) -> list[bench_server.Request]:
    return [
        bench_server.Request(
            WEBHOOK,
            body,
            {
                "Host": f"127.0.0.1:{stage.https_port}",
                "Content-Type": "application/json",
                "Stripe-Signature": signed(body),
            },
        )
        for body in bodies
    ]


def _ok200(status: int, body: bytes) -> str:
    return "ok" if status == 200 else f"HTTP {status}"


def _halves(items: list[Any]) -> tuple[list[Any], list[Any]]:
    return items[: len(items) // 2], items[len(items) // 2 :]


SQL_LOCK_EVENT = """
SELECT data->>'customer', (data->>'amount_total')::bigint, data->>'payment_intent'
FROM dues_stripeevent WHERE id = %s AND status = 'pending' FOR UPDATE
"""
SQL_ACCOUNT = """
SELECT a.id, m.id, m.branch_id FROM dues_duesaccount a JOIN union_member m ON m.id = a.member_id
WHERE a.stripe_customer_id = %s FOR UPDATE OF m
"""
SQL_ENTRY = """
INSERT INTO dues_ledgerentry (
    public_id, member_id, branch_id, kind, amount, currency, period, booked_on,
    method, provider, external_id, receipt_number, reason, needs_confirmation, recorded_at
) VALUES (gen_random_uuid(), %s, %s, 'payment', %s, 'XOF', NULL, current_date,
          'card', 'stripe', %s, '', '', false, now())
RETURNING id
"""
# The same rows a booking leaves besides the entry: its audit row and the member's
# receipt message in the outbox (a fixed text here: no rendering, no encryption).
SQL_AUDIT = """
INSERT INTO union_auditevent (at, actor_id, action, branch_id, target, rows)
VALUES (now(), NULL, 'dues.payment', %s, 'entry:' || %s, 0)
"""
SQL_MESSAGE = """
INSERT INTO union_notification (member_id, kind, channel, subject, body, dedupe_key, status,
    attempts, created_at, provider_ref, last_error)
VALUES (%s, 'dues_payment', '', '', 'Payment received', 'dues-payment:' || %s, 'suppressed',
    0, now(), '', '')
"""
SQL_MARK = """
UPDATE dues_stripeevent SET status = 'booked', entry_id = %s, account_id = %s,
       attempts = attempts + 1, processed_at = now()
WHERE id = %s
"""


def sql_booking(event_ids: list[int], connections: int, same_rows: bool = False) -> float:
    """Book events with hand-written SQL, one transaction each, from `connections`
    threads (each its own database connection). same_rows: also the audit row and the
    outbox message a booking writes. Returns seconds."""
    from django.db import connection, transaction

    def book(ids: list[int]) -> None:
        try:
            for pk in ids:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(SQL_LOCK_EVENT, [pk])
                    row = cursor.fetchone()
                    if row is None:
                        continue
                    customer, amount, intent = row
                    cursor.execute(SQL_ACCOUNT, [customer])
                    account_id, member_id, branch_id = cursor.fetchone()
                    cursor.execute(SQL_ENTRY, [member_id, branch_id, -amount, intent])
                    (entry_id,) = cursor.fetchone()
                    if same_rows:
                        cursor.execute(SQL_AUDIT, [branch_id, str(entry_id)])
                        cursor.execute(SQL_MESSAGE, [member_id, str(entry_id)])
                    cursor.execute(SQL_MARK, [entry_id, account_id, pk])
        finally:
            connection.close()

    failures: list[BaseException] = []

    def book_or_tell(ids: list[int]) -> None:
        try:
            book(ids)
        except BaseException as exc:  # a broken baseline must not pass for a fast one
            failures.append(exc)

    shards = [event_ids[i::connections] for i in range(connections)]
    threads = [threading.Thread(target=book_or_tell, args=(shard,)) for shard in shards]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise RuntimeError("the SQL baseline failed") from failures[0]
    return time.perf_counter() - started


def bench_webhook(
    stage: Stage, results: Results, events: int, clients: int, paced_rate: float, paced: int
) -> None:
    from django.db.models import Max, Min

    from dues.models import EntryKind, EventStatus, LedgerEntry, StripeEvent
    from dues.services import card

    tag = "BW"
    seed(stage, tag, members=3 * events + paced)
    for worker in WORKERS:
        stage.stop_process(worker, timeout=60)
    deliveries = card_events(tag, events, first=0)  # set A: the endpoint, then the workers
    quiet = card_events(tag, events, first=events, duplicates=0)  # set B: the SQL baseline
    quieter = card_events(tag, events, first=2 * events, duplicates=0)  # C: the same rows
    hellos = hello_requests(stage, len(deliveries))
    hooks = webhook_requests(stage, deliveries)
    bench_server.drive(stage, hello_requests(stage, 300), clients=clients, classify=_ok200)
    runs: dict[str, list[bench_server.Run]] = {"hello": [], "webhook": []}
    for half in (0, 1):  # interleaved: a burst of load elsewhere hits both alike
        runs["hello"].append(
            bench_server.drive(stage, _halves(hellos)[half], clients=clients, classify=_ok200)
        )
        runs["webhook"].append(
            bench_server.drive(stage, _halves(hooks)[half], clients=clients, classify=_ok200)
        )
    hello = bench_server.Run.combine(runs["hello"])
    hook = bench_server.Run.combine(runs["webhook"])
    # Stripe's deliveries arrive at their own pace, not as fast as we answer: latency at
    # a steady rate (new events, 10 % repeats), the hello-world at the same rate beside it.
    steady = card_events(tag, paced, first=3 * events)
    paced_runs = {
        name: bench_server.drive(
            stage, requests, clients=4 * clients, classify=_ok200, rate=paced_rate
        )
        for name, requests in (
            ("hello", hello_requests(stage, len(steady))),
            ("webhook", webhook_requests(stage, steady)),
        )
    }
    for bodies in (quiet, quieter):
        bench_server.drive(stage, webhook_requests(stage, bodies), clients=clients, classify=_ok200)

    set_a = StripeEvent.objects.filter(event_id__in=[f"evt_{tag}_{i}" for i in range(events)])
    set_b = StripeEvent.objects.filter(
        event_id__in=[f"evt_{tag}_{i}" for i in range(events, 2 * events)]
    )
    set_c = StripeEvent.objects.filter(
        event_id__in=[f"evt_{tag}_{i}" for i in range(2 * events, 3 * events)]
    )
    stored_a, stored_b, stored_c = set_a.count(), set_b.count(), set_c.count()

    sql_seconds = sql_booking(list(set_b.values_list("pk", flat=True)), connections=4)
    same_seconds = sql_booking(
        list(set_c.values_list("pk", flat=True)), connections=4, same_rows=True
    )
    started = time.monotonic()
    for worker in WORKERS:
        stage.start_process(worker)
    booked = 0
    while time.monotonic() - started < 900:
        booked = set_a.exclude(status=EventStatus.PENDING).count()
        if booked >= stored_a:
            break
        time.sleep(2)
    span = set_a.aggregate(first=Min("processed_at"), last=Max("processed_at"))
    worker_seconds = (span["last"] - span["first"]).total_seconds() if span["first"] else 0.0

    payments = LedgerEntry.objects.filter(
        kind=EntryKind.PAYMENT, external_id__in=[f"pi_{tag}_{i}" for i in range(events)]
    )
    exactly_once = (
        hook.outcomes == {"ok": len(deliveries)}
        and stored_a == events
        and paced_runs["webhook"].outcomes == {"ok": len(steady)}
        and set_a.filter(status=EventStatus.BOOKED).count() == events
        and payments.count() == payments.values("external_id").distinct().count() == events
    )
    endpoint_ratio = hook.per_second / hello.per_second
    sql_rate = stored_b / sql_seconds
    same_rate = stored_c / same_seconds
    worker_rate = events / worker_seconds if worker_seconds else 0.0
    booking_ratio = worker_rate / sql_rate
    same_ratio = worker_rate / same_rate
    results.say(
        f"== Stripe webhook through nginx (TLS), {len(deliveries):,} deliveries "
        f"({len(deliveries) - events:,} repeats, shuffled), {clients} clients =="
    )
    for label, run in (("hello-world POST", hello), ("webhook (verify, store, enqueue)", hook)):
        results.say(
            f"   {label:<34} {run.per_second:8.0f} req/s  p50 {run.percentile(50):6.1f} ms  "
            f"p95 {run.percentile(95):6.1f} ms  p99 {run.percentile(99):6.1f} ms  "
            f"{dict(run.outcomes)}"
        )
    results.say(
        f"   endpoint {endpoint_ratio:.2f}x the hello-world (target >= 0.25x), p99 "
        f"{hook.percentile(99):.1f} ms with every client sending as fast as answered"
    )
    results.say(
        f"   at a steady {paced_rate:.0f} deliveries/s ({len(steady):,}, "
        f"{len(steady) - paced:,} repeats; latency from when each was due):"
    )
    for label, run in (
        ("hello-world POST", paced_runs["hello"]),
        ("webhook (verify, store, enqueue)", paced_runs["webhook"]),
    ):
        results.say(
            f"   {label:<34} {run.per_second:8.0f} req/s  p50 {run.percentile(50):6.1f} ms  "
            f"p95 {run.percentile(95):6.1f} ms  p99 {run.percentile(99):6.1f} ms  "
            f"{dict(run.outcomes)}"
        )
    steady_p99 = paced_runs["webhook"].percentile(99)
    results.say(f"   webhook p99 at {paced_rate:.0f}/s: {steady_p99:.1f} ms (target <= 50 ms)")
    results.say(
        f"   booking in {len(WORKERS)} workers x 2 processes: {events:,} in {worker_seconds:.1f} s "
        f"= {worker_rate:.0f}/s; hand-written SQL, 4 connections: {stored_b:,} in "
        f"{sql_seconds:.1f} s = {sql_rate:.0f}/s; ratio {booking_ratio:.2f}x (target >= 0.25x)"
    )
    results.say(
        f"   the same SQL also writing the audit row and the outbox message: {stored_c:,} in "
        f"{same_seconds:.1f} s = {same_rate:.0f}/s; ratio {same_ratio:.2f}x"
    )
    results.say(
        "   (a booking in the worker also settles the member's open charges, re-checks their "
        "standing, writes the welfare funds' shares and, for members who agreed, renders and "
        "encrypts the receipt text; each event's task books the payments waiting with it, up "
        f"to {card.BATCH_SIZE} in one transaction, and is a no-op for those booked already)"
    )
    results.say(
        f"   stored {stored_a:,} of {events:,} events once, booked {booked:,}, "
        f"{payments.count():,} payments ({payments.values('external_id').distinct().count():,} "
        f"distinct): exactly once {'yes' if exactly_once else 'NO'}"
    )
    results.rows += [
        Row(
            "Stripe webhook through nginx, req/s",
            f"{hook.per_second:.0f}/s",
            f"hello-world POST {hello.per_second:.0f}/s",
            endpoint_ratio,
            ">= 0.25x",
            endpoint_ratio >= 0.25,
        ),
        Row(
            f"Stripe webhook through nginx, p99 at a steady {paced_rate:.0f} deliveries/s",
            f"{steady_p99:.1f} ms",
            f"hello-world p99 {paced_runs['hello'].percentile(99):.1f} ms",
            None,
            "<= 50 ms",
            steady_p99 <= 50,
        ),
        Row(
            f"Stripe webhook through nginx, p99 at saturation ({clients} clients)",
            f"{hook.percentile(99):.1f} ms",
            f"hello-world p99 {hello.percentile(99):.1f} ms",
            None,
            "(for comparison)",
            None,
        ),
        Row(
            "Stripe booking in the workers",
            f"{worker_rate:.0f} events/s",
            f"hand-written SQL {sql_rate:.0f}/s",
            booking_ratio,
            ">= 0.25x",
            booking_ratio >= 0.25,
        ),
        Row(
            "Stripe booking in the workers",
            f"{worker_rate:.0f} events/s",
            f"hand-written SQL with audit and message rows {same_rate:.0f}/s",
            same_ratio,
            "(for comparison)",
            None,
        ),
    ]
    if not exactly_once:
        results.failures.append("webhook: not exactly once")


def web_command(stage: Stage) -> str:
    """How many gunicorn workers of which class each web node ran (the last of a repeated
    option is the one gunicorn takes): what the figures belong to."""
    command = stage.processes["web-a"].command
    options = {"--workers": "1", "--worker-class": "sync", "--threads": "1"}
    for option, value in itertools.pairwise(command):
        if option in options:
            options[option] = value
    return " ".join(f"{option} {value}" for option, value in options.items())


def machine() -> str:
    cpu = "unknown CPU"
    with_model = Path("/proc/cpuinfo")
    if with_model.exists():
        for line in with_model.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kb = int(meminfo.read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GiB"
    pg = subprocess.run(["pg_config", "--version"], capture_output=True, text=True).stdout.strip()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} cores ({cpu}){memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; {pg or 'PostgreSQL 15'}; load average when "
        f"written {load} (1, 5, 15 min: anything above the core count is other work waiting)"
    )


def write_report(
    path: Path, results: Results, sections_output: Path | None, started: float
) -> None:
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. "
        "Every figure was measured in that run, beside a baseline measured in the same run "
        "on the same machine. Timings depend on the machine; the targets come from the "
        "issues.",
        "",
        f"Machine: {machine()}. The whole production shape (nginx, two web nodes, "
        "pgbouncer, PostgreSQL, Redis, two workers, a beat) and the load clients share it.",
        "",
        "## Production shape (tests/stage/bench.py)",
        "",
        "| Benchmark | Figure | Baseline | Ratio | Target | |",
        "|---|---|---|---|---|---|",
        *[row.markdown() for row in results.rows],
        "",
        "```",
        *results.lines,
        "```",
        "",
    ]
    if sections_output and sections_output.exists():
        lines += [
            "## In-process and single-server benchmarks (tests/bench/)",
            "",
            "The output of `python -m tests.bench` in the same `make bench` run:",
            "",
            "```",
            *sections_output.read_text().rstrip().splitlines(),
            "```",
            "",
        ]
    lines.append(f"Run time of the production-shape part: {time.monotonic() - started:.0f} s.")
    path.write_text("\n".join(lines) + "\n")
    print(f"wrote {path}")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.stage.bench")
    parser.add_argument("--only", default="webhook,mixed")
    parser.add_argument("--events", type=int, default=2000, help="distinct webhook events")
    parser.add_argument("--clients", type=int, default=8, help="webhook bench clients")
    parser.add_argument(
        "--paced-rate", type=float, default=50, help="webhook: steady deliveries per second"
    )
    parser.add_argument("--paced", type=int, default=600, help="webhook: steady deliveries")
    parser.add_argument("--levels", default="8,32,128", help="mixed load: concurrent clients")
    parser.add_argument("--mixed-seconds", type=float, default=20, help="per level and shape")
    parser.add_argument("--write", type=Path, help="write docs/benchmarks.md here")
    parser.add_argument("--sections-output", type=Path, help="tests.bench output to include")
    parser.add_argument(
        "--gunicorn",
        default="",
        help="options added to the web unit's gunicorn command, e.g. "
        "'--worker-class gthread --threads 4' (default: the unit as deployed)",
    )
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    only = {name.strip() for name in args.only.split(",") if name.strip()}
    results = Results()
    started = time.monotonic()
    os.environ["STAGE_SETTINGS"] = "tests.bench.server_settings"  # + the hello-world views
    gunicorn = shlex.split(args.gunicorn)
    with Stage.start(stripe=True, keep=args.keep, gunicorn_args=gunicorn) as stage:
        stage.wait_workers()
        django_in(stage)
        results.say(f"web nodes: gunicorn {web_command(stage)}")
        if "webhook" in only:
            bench_webhook(stage, results, args.events, args.clients, args.paced_rate, args.paced)
        if "mixed" in only:
            from tests.stage import mixed

            levels = [int(x) for x in args.levels.split(",") if x.strip()]
            mixed.run(stage, results, levels=levels, seconds=args.mixed_seconds)
    if args.write:
        write_report(args.write, results, args.sections_output, started)
    for failure in results.failures:
        print(f"FAILED: {failure}")
    log(f"done in {time.monotonic() - started:.0f} s")
    return 1 if results.failures else 0


if __name__ == "__main__":
    sys.exit(main())
