"""Charge a month's dues by hand: manage.py run_dues --period 2026-11 [--branch BKO] [--dry-run]

Idempotent: members already charged for the month are not charged again, so running it
next to the beat job (or twice) is harmless.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from dues import money
from dues.services import runs
from union.models import Branch


class Command(BaseCommand):
    help = "Charge the monthly dues of a month (YYYY-MM) to every active member who owes them."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--period", required=True, help="the month, as YYYY-MM")
        parser.add_argument("--branch", help="a branch code (default: every branch with a plan)")
        parser.add_argument(
            "--dry-run", action="store_true", help="say what would be charged, change nothing"
        )

    def handle(self, *args: Any, period: str, branch: str | None, dry_run: bool, **opts: Any):
        try:
            month = money.parse_period(period)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        target = None
        if branch:
            target = Branch.objects.filter(code=branch.upper(), is_national=False).first()
            if target is None:
                raise CommandError(f"No branch with code {branch!r}.")
        result = runs.charge_period(period=month, branch=target, dry_run=dry_run)
        totals = ", ".join(
            f"{money.to_major(amount, currency)} {currency}"
            for currency, amount in sorted(result.totals.items())
        )
        verb = "Would charge" if dry_run else "Charged"
        self.stdout.write(
            f"{verb} {result.charged} members for {month:%Y-%m}"
            + (f": {totals}" if totals else ".")
        )
        if dry_run:
            return
        settled = runs.settle_credit(branch=target)
        lapsed = runs.lapse_members_in_arrears(branch=target)
        self.stdout.write(f"Advance payments applied for {settled} members; {lapsed} lapsed.")
