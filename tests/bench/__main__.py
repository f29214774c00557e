"""The project's benchmarks, each measured against a hand-written baseline in the same run.

    make bench                                  # everything, at full size
    make bench BENCH_ARGS="--only register --members 20000 --rows 20000 --repeat 1"

Sections (--only, comma-separated; default all):
- register: importing a register CSV through the project's import path against
  PostgreSQL COPY of the same rows (tests/bench/imports.py), and the member list view
  against hand-written keyset SQL (tests/bench/listing.py).
- votes: tests/bench/votes.py (tally, STV, casting).
- dues: tests/bench/dues.py (monthly run, Stripe webhook, lapsing).
- cms: tests/bench/cms.py (public pages under a real server, cached and not).
- crisis: tests/bench/crisis.py (escalation sweep, response figures).
- welfare: tests/bench/welfare.py (a fund's balance and the monthly figures over 1,000,000
  fund ledger rows against hand-written SQL; the share's statements in a dues payment).

Runs against the PostgreSQL in DATABASE_URL (tests/with_services.sh starts a throwaway
one) but only ever inside test databases it creates and drops itself, a fresh one per
section. Prints figures and ratios measured in this run. Exits non-zero only on errors,
never on timings: timings depend on the machine, the targets are printed beside them for
a human to judge.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench", description=__doc__.split("\n")[0]
    )
    parser.add_argument(
        "--only",
        default="register,votes,dues,cms,crisis,welfare",
        help="sections to run (comma-separated): register,votes,dues,cms,crisis,welfare",
    )
    parser.add_argument(
        "--fund-rows", type=int, default=1_000_000, help="welfare fund ledger rows (default 1M)"
    )
    parser.add_argument(
        "--members", type=int, default=100_000, help="members seeded (default 100000)"
    )
    parser.add_argument(
        "--rows", type=int, default=100_000, help="rows in the imported file (default 100000)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each import measurement (median shown)"
    )
    parser.add_argument(
        "--list-repeat", type=int, default=20, help="requests per member-list measurement"
    )
    parser.add_argument(
        "--profiles",
        default="typical,full",
        help="contact-field profiles of the file: typical,full",
    )
    parser.add_argument(
        "--show-queries", action="store_true", help="print the member list's SQL (page 1)"
    )
    parser.add_argument(
        "--orm-writer", action="store_true", help="also time the portable bulk_create writer"
    )
    parser.add_argument(
        "--stock-sample",
        type=int,
        default=1000,
        help="rows for a stock django-import-export reference run (0 to skip)",
    )
    return parser.parse_args()


def main() -> int:
    args = _parse()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "union.settings")
    # Pages render without collectstatic having been run (no manifest needed).
    os.environ.setdefault("SOLIDAIRE_PLAIN_STATIC", "1")
    if "DATABASE_URL" not in os.environ:
        print("The benchmark needs PostgreSQL: run it with tests/with_services.sh (make bench).")
        return 2

    import logging

    import django

    django.setup()
    # Migrations and the CMS log every step at INFO; only warnings and errors matter here.
    logging.disable(logging.INFO)
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    if connection.vendor != "postgresql":
        print("The benchmark needs PostgreSQL (DATABASE_URL).")
        return 2
    # Files of 100,000 rows are larger than the upload limit; the bench calls the service.
    settings.IMPORT_MAX_BYTES = max(settings.IMPORT_MAX_BYTES, 200 * 1024 * 1024)
    settings.IMPORT_MAX_ROWS = max(args.rows, args.members) + 1
    setup_test_environment()
    failed = []
    try:
        for section in [name.strip() for name in args.only.split(",") if name.strip()]:
            if section not in SECTIONS:
                print(f"Unknown section {section!r}; choose from {', '.join(SECTIONS)}.")
                return 2
            if not _in_fresh_database(section, lambda s=section: SECTIONS[s](args)):
                failed.append(section)
    finally:
        teardown_test_environment()
    if failed:
        print(f"\nErrors in: {', '.join(failed)}")
        return 1
    return 0


def _in_fresh_database(name: str, section: Callable[[], object]) -> bool:
    """Run one section in its own test database; report an error instead of stopping."""
    from django.db import connection

    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False, serialize=False)
    try:
        section()
        return True
    except Exception:
        print(f"\n!! The {name} benchmark failed:")
        traceback.print_exc()
        return False
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)


def _votes(args: argparse.Namespace) -> None:
    from tests.bench import votes

    print("\n".join(votes.report(votes.run())), flush=True)


def _dues(args: argparse.Namespace) -> None:
    from tests.bench import dues

    print("", flush=True)
    dues.run(members=args.members)  # prints as it goes


def _register(args: argparse.Namespace) -> None:
    from django.db import connection

    from tests.bench import data, imports, listing
    from union.models import Member, Role
    from union.services.imports import import_register

    print(
        f"PostgreSQL {connection.pg_version // 10000}, database {connection.settings_dict['NAME']}"
    )
    branches = data.make_branches()
    national = next(b for b in branches if b.code == "BKO").parent
    bko = next(b for b in branches if b.code == "BKO")
    coordinator = data.make_officer(
        branch=bko, role=Role.NATIONAL_COORDINATOR, scope=national, number="BKO-999998"
    )
    secretary = data.make_officer(branch=bko, role=Role.SECRETARY, scope=bko, number="BKO-999999")

    start = time.perf_counter()
    seed = data.register_csv(
        rows=args.members, first_seq=1, profile=data.PROFILES["typical"], seed=1
    )
    seeded_outcome = import_register(actor=coordinator.user, data=seed, filename="seed.csv")
    seeded = time.perf_counter() - start
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"Seeded {seeded_outcome.created:,} members through the import path in {seeded:.1f} s "
        f"({Member.objects.count():,} in the table)."
    )

    class _Lines(list[str]):
        """Printed as they come: a long run shows its figures before it ends."""

        def append(self, line: str) -> None:
            print(line, flush=True)
            super().append(line)

    lines = _Lines()
    lines.append("")
    lines.append(f"== Import of a {args.rows:,}-row register CSV (median of {args.repeat}) ==")
    for profile_name in [p.strip() for p in args.profiles.split(",") if p.strip()]:
        profile = data.PROFILES[profile_name]
        file = data.register_csv(rows=args.rows, first_seq=500_001, profile=profile, seed=2)
        timings = imports.run(data=file, actor=coordinator.user, repeat=args.repeat, rows=args.rows)
        ours = timings["import"].median
        lines.append(
            f"-- file profile '{profile.name}': phone {profile.phone:.0%}, legal name "
            f"{profile.legal_name:.0%}, email {profile.email:.0%}, notes {profile.notes:.0%} "
            f"of rows; {len(file) / 1e6:.1f} MB"
        )
        lines.append(f"   {'':<58}{'wall s':>9}{'best s':>8}{'rows/s':>9}{'CPU s':>8}")
        for key in ("copy_direct", "copy_staged", "preview", "import"):
            t = timings[key]
            lines.append(
                f"   {t.label:<58}{t.median:9.2f}{t.best:8.2f}{args.rows / t.median:9,.0f}"
                f"{t.cpu_median:8.2f}"
            )
        for key in ("copy_direct", "copy_staged"):
            base = timings[key]
            best = base.best / timings["import"].best
            median = base.median / ours
            cpu = base.cpu_median / timings["import"].cpu_median
            verdict = "meets" if best >= 0.33 else "BELOW"
            lines.append(
                f"   ratio vs '{base.label.split(' (')[0]}': wall {best:.3f}x best-of-"
                f"{args.repeat}, {median:.3f}x median; CPU {cpu:.3f}x "
                f"(target >= 0.33x: {verdict} on best wall)"
            )
        if args.orm_writer:
            orm = imports.time_orm_writer(data=file, actor=coordinator.user)
            lines.append(
                f"   {'Project import with the portable bulk_create writer':<62} {orm:7.2f} s"
            )
        if args.stock_sample:
            stock = imports.time_stock_import_export(data=file, sample=args.stock_sample)
            per_row = stock / args.stock_sample
            projected = per_row * args.rows
            lines.append(
                f"   {'Stock django-import-export, ' + str(args.stock_sample) + ' rows':<62} "
                f"{stock:7.2f} s  (projected {projected:,.0f} s for {args.rows:,} rows: "
                f"{timings['copy_direct'].median / projected:.4f}x)"
            )

    reimport = imports.time_reimport(
        data=seed, actor=coordinator.user, repeat=args.repeat, rows=args.members
    )
    lines.append(
        f"-- {reimport.label}: {reimport.median:.2f} s median, best {reimport.best:.2f} s "
        f"({args.members / reimport.median:,.0f} rows/s), CPU {reimport.cpu_median:.2f} s"
    )

    lines.append("")
    lines.append(f"== Member list (union:members), median of {args.list_repeat} requests ==")
    lines.append(
        f"   {'officer':<22}{'page':<18}{'view ms':>8}{'queries':>8}{'view SQL ms':>12}"
        f"{'hand SQL ms':>12}{'SQL ratio':>10}{'view/hand':>10}"
    )
    worst = {"view_ms": 0.0, "queries": 0, "sql_ratio": 0.0}
    for who, officer, branch_id in (
        ("national coordinator", coordinator, None),
        ("BKO secretary", secretary, bko.pk),
    ):
        for r in listing.measure(
            who=who, officer=officer, branch_id=branch_id, repeat=args.list_repeat
        ):
            lines.append(
                f"   {r.who:<22}{r.page:<18}{r.view_ms:8.1f}{r.queries:8d}{r.view_sql_ms:12.2f}"
                f"{r.hand_sql_ms:12.2f}{r.sql_ratio:9.2f}x{r.view_ratio:9.1f}x"
            )
            if args.show_queries and r.page == "page 1":
                for sql in r.query_texts:
                    lines.append(f"      {sql[:150]}")
            worst["view_ms"] = max(worst["view_ms"], r.view_ms)
            worst["queries"] = max(worst["queries"], r.queries)
            worst["sql_ratio"] = max(worst["sql_ratio"], r.sql_ratio)
    lines.append(
        f"   worst: view {worst['view_ms']:.1f} ms (target < 150 ms), {worst['queries']} queries "
        f"(target <= 5), view's page SQL {worst['sql_ratio']:.2f}x the hand-written query "
        f"(target <= 1.5x)"
    )


def _welfare(args: argparse.Namespace) -> None:
    from tests.bench import welfare

    welfare.run(rows=args.fund_rows)  # prints as it goes


def _cms(args: argparse.Namespace) -> None:
    from tests.bench import cms

    print("\n".join(["", *cms.run()]), flush=True)


def _crisis(args: argparse.Namespace) -> None:
    from tests.bench import crisis

    print("\n".join(crisis.report(crisis.run())), flush=True)


SECTIONS: dict[str, Callable[[argparse.Namespace], None]] = {
    "register": _register,
    "votes": _votes,
    "dues": _dues,
    "cms": _cms,
    "crisis": _crisis,
    "welfare": _welfare,
}


if __name__ == "__main__":
    sys.exit(main())
