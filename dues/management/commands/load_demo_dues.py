"""Demo dues for the demo union: plans, three months of charges, cash payments.

Run by load_demo. Safe to run again: with the plans already there it changes nothing.
About half the members are up to date, a quarter are a month or two behind, a quarter
have paid nothing; one large payment waits for a second officer.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from dues import money
from dues.models import DuesPlan, Method
from dues.services import ledger, plans, runs
from union.models import Branch, Member, MemberStatus, Role, RoleAssignment

# code: (monthly dues, solidarity rate, second-officer threshold), in minor units
PLANS = {
    "BKO": (1000, 500, 5000),  # XOF has no minor unit: 1 000 francs a month
    "SEG": (1000, 500, 5000),
    "JHB": (5000, 2500, 50000),  # ZAR in cents: R50.00 a month
}
MONTHS = 3


class Command(BaseCommand):
    help = "Add dues plans, charges and payments to the demo union (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        branches = list(Branch.objects.filter(code__in=PLANS))
        if not branches:
            self.stdout.write("No demo branches: run load_demo first.")
            return
        if DuesPlan.objects.filter(branch__in=branches).exists():
            self.stdout.write("Demo dues already present; nothing changed.")
            return
        rng = random.Random(2026)  # noqa: S311 - demo data, not security
        for branch in branches:
            self._load_branch(branch, rng)
        self.stdout.write(self.style.SUCCESS("Demo dues loaded."))

    @transaction.atomic
    def _load_branch(self, branch: Branch, rng: random.Random) -> None:
        monthly, solidarity, threshold = PLANS[branch.code]
        plans.set_dues_plan(
            actor=None,
            branch=branch,
            monthly_amount=monthly,
            solidarity_amount=solidarity,
            confirm_threshold=threshold,
        )
        today = money.local_today(branch.time_zone)
        current = money.month_start(today)
        for back in range(MONTHS - 1, -1, -1):
            runs.charge_period(period=money.add_months(current, -back), branch=branch)
        treasurer = (
            RoleAssignment.objects.filter(
                branch=branch, role=Role.TREASURER, member__user__isnull=False
            )
            .select_related("member__user")
            .first()
        )
        if treasurer is None or treasurer.member.user is None:
            return
        actor = treasurer.member.user
        operator = next(iter(branch.mobile_money_providers), "")  # mobile money, if set up
        receipt = 0
        # Not the treasurer's own dues: another officer would have to take those.
        members = (
            Member.objects.filter(branch=branch, status=MemberStatus.ACTIVE)
            .exclude(user=actor)
            .order_by("id")
        )
        for member in members:
            roll = rng.random()
            if roll < 0.5:
                months_paid = MONTHS  # up to date
            elif roll < 0.75:
                months_paid = rng.randint(1, MONTHS - 1)  # behind
            else:
                continue  # paid nothing yet
            receipt += 1
            ledger.record_payment(
                actor=actor,
                member=member,
                amount=monthly * months_paid,
                currency=branch.currency,
                method=Method.MOBILE_MONEY if operator and rng.random() >= 0.8 else Method.CASH,
                receipt_number=f"{branch.code}-{receipt:04d}",
                paid_on=today - timedelta(days=rng.randint(0, 40)),
                provider=operator,
                external_id=f"OM{branch.code}{receipt:06d}",
            )
        # One large advance payment, waiting for a second officer to confirm it.
        first = members.first()
        if first is not None:
            receipt += 1
            ledger.record_payment(
                actor=actor,
                member=first,
                amount=threshold + monthly,
                currency=branch.currency,
                method=Method.CASH,
                receipt_number=f"{branch.code}-{receipt:04d}",
                paid_on=today,
            )
