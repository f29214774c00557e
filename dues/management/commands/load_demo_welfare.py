"""Demo welfare funds for the demo union: funds and their rules, grants, a committee of two
in each branch and a national committee, and applications at every step in Bamako.

Run by load_demo after the demo dues. Safe to run again: with the funds already there it
changes nothing. Everything goes through the services, as an officer would do it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from dues import money
from dues.welfare.models import Fund, FundEntryKind, PayeeKind, PayoutMethod, Purpose
from dues.welfare.services import applications, funds, payouts
from union.management.commands.load_demo import DEMO_PASSWORD
from union.models import Branch, Member, MemberStatus, Role, RoleAssignment
from union.services import roles as role_services

# code: [(purpose, share in basis points, most per payout, most per member a year)],
# amounts in minor units (XOF has none; ZAR in cents).
FUNDS: dict[str, list[tuple[str, int, int, int | None]]] = {
    "BKO": [
        (Purpose.EMERGENCY, 2000, 50_000, 100_000),
        (Purpose.MEDICAL, 1000, 75_000, 150_000),
        (Purpose.FUNERAL, 500, 100_000, None),
    ],
    "SEG": [(Purpose.EMERGENCY, 2000, 50_000, 100_000)],
    "JHB": [(Purpose.EMERGENCY, 1500, 150_000, 300_000), (Purpose.MEDICAL, 1000, 200_000, None)],
    "NAT": [(Purpose.LEGAL, 500, 200_000, None)],
}
GRANT = {"XOF": 400_000, "ZAR": 2_000_000}  # R20 000.00
# Emergency limits per branch currency: per payout, per coordinator a month, per member a year.
EMERGENCY = {"XOF": (25_000, 75_000, 50_000), "ZAR": (100_000, 300_000, 200_000)}


class Command(BaseCommand):
    help = "Add welfare funds, rules, committees and applications to the demo union."

    def handle(self, *args: Any, **options: Any) -> None:
        branches = {b.code: b for b in Branch.objects.filter(code__in=FUNDS)}
        if "BKO" not in branches:
            self.stdout.write("No demo branches: run load_demo first.")
            return
        if Fund.objects.exists():
            self.stdout.write("Demo welfare already present; nothing changed.")
            return
        with transaction.atomic():
            self._load(branches)
        self.stdout.write(self.style.SUCCESS("Demo welfare loaded."))

    def _officer(self, branch: Branch, role: str) -> Member | None:
        found = (
            RoleAssignment.objects.current()
            .filter(branch=branch, role=role, member__user__isnull=False)
            .select_related("member__user")
            .order_by("id")
            .first()
        )
        return found.member if found else None

    def _new_officer(self, branch: Branch, role: str, scope: Branch, start: Any) -> Member:
        """A member without a role becomes a committee member, with a demo login."""
        member = (
            Member.objects.filter(
                branch=branch, status=MemberStatus.ACTIVE, roles__isnull=True, user__isnull=True
            )
            .order_by("-id")
            .first()
        )
        assert member is not None  # noqa: S101 - the demo union has ~200 members
        role_services.assign_role(
            actor=None, member=member, role=role, branch=scope, starts_on=start
        )
        user = get_user_model().objects.create_user(
            username=str(member.number), password=DEMO_PASSWORD
        )
        Member.objects.filter(pk=member.pk).update(user=user)
        member.refresh_from_db()
        return member

    def _load(self, branches: dict[str, Branch]) -> None:
        national = branches.get("NAT") or Branch.objects.filter(is_national=True).first()
        start = money.local_today("UTC") - timedelta(days=30)
        for branch in branches.values():
            if branch.is_national:
                continue
            self._new_officer(branch, Role.WELFARE_COMMITTEE, branch, start)
            funds.set_welfare_policy(
                actor=None,
                branch=branch,
                approvals_required=2,
                emergency_max_payout=EMERGENCY[branch.currency][0],
                emergency_max_per_coordinator_month=EMERGENCY[branch.currency][1],
                emergency_max_per_member_year=EMERGENCY[branch.currency][2],
            )
        if national is not None:
            for code in ("BKO", "SEG"):
                self._new_officer(branches[code], Role.WELFARE_COMMITTEE, national, start)
            funds.set_welfare_policy(actor=None, branch=national, approvals_required=2)
        for code, plans in FUNDS.items():
            owner = national if code == "NAT" else branches.get(code)
            if owner is None:
                continue
            branch = owner
            today = money.local_today(branch.time_zone)
            for purpose, share, most, cap in plans:
                fund = funds.create_fund(actor=None, branch=branch, purpose=purpose)
                funds.set_fund_rule(
                    actor=None,
                    fund=fund,
                    effective_from=today,
                    share_bp=share,
                    max_payout=most,
                    max_per_member_year=cap,
                    good_standing_required=purpose != Purpose.EMERGENCY,
                )
                # A national fund's grant is recorded by the national coordinator.
                recorder = (
                    self._officer(branch, Role.NATIONAL_COORDINATOR)
                    if branch.is_national
                    else self._officer(branch, Role.TREASURER)
                )
                if recorder is None or recorder.user is None:
                    continue
                funds.record_gift(
                    actor=recorder.user,
                    fund=fund,
                    amount=GRANT[fund.currency],
                    currency=fund.currency,
                    kind=FundEntryKind.GRANT,
                    source="Fonds de solidarité (demo)",
                    received_on=today,
                    restricted=purpose == Purpose.MEDICAL,
                )
        self._applications(branches["BKO"])

    def _applications(self, branch: Branch) -> None:
        """Bamako's applications: paid, approved, pending, a question, an emergency."""
        crisis = self._officer(branch, Role.CRISIS_RESPONDER)
        coordinator = self._officer(branch, Role.CRISIS_COORDINATOR)
        treasurer = self._officer(branch, Role.TREASURER)
        committee = [
            assignment.member
            for assignment in RoleAssignment.objects.current()
            .filter(branch=branch, role=Role.WELFARE_COMMITTEE, member__user__isnull=False)
            .select_related("member__user")
            .order_by("id")
        ]
        if crisis is None or treasurer is None or len(committee) < 2:
            return
        assert crisis.user and treasurer.user  # noqa: S101 - filtered on user above
        members = list(
            Member.objects.filter(
                branch=branch, status=MemberStatus.ACTIVE, roles__isnull=True
            ).order_by("id")[:12]
        )
        if not members:
            return
        members = (members * 12)[:12]  # a small demo union: some members ask twice
        today = money.local_today(branch.time_zone)

        def apply(member: Member, purpose: str, amount: int, **payee: Any) -> Any:
            return applications.submit_application(
                actor=crisis.user,  # type: ignore[arg-type]
                member=member,
                purpose=purpose,
                amount=amount,
                note="Demo: what happened, in a few words.",
                payee=applications.Payee(**payee) if payee else None,
            )

        def approve(application: Any, amount: int | None = None) -> Any:
            for decider in committee[:2]:
                application = applications.approve_application(
                    actor=decider.user,  # type: ignore[arg-type]
                    application=application,
                    amount=amount or application.amount_requested,
                    reason="Demo: within the fund's rules.",
                )
            return application

        # Six paid from the emergency fund this month, so the members' figures show a month
        # of payouts; two medical ones, too few to be shown.
        for i, member in enumerate(members[:8]):
            purpose = Purpose.EMERGENCY if i < 6 else Purpose.MEDICAL
            application = approve(apply(member, purpose, 10_000 + 2_500 * i))
            payouts.pay_application(
                actor=treasurer.user,
                application=application,
                method=PayoutMethod.CASH,
                paid_on=today,
            )
        funeral = apply(
            members[8],
            Purpose.FUNERAL,
            60_000,
            kind=PayeeKind.FUNERAL_HOME,
            name="Pompes funèbres (demo)",
            method=PayoutMethod.MOBILE_MONEY,
            provider="Orange Money",
            destination="+22370000000",
        )
        approve(funeral, 50_000)  # approved for less, waiting for the treasurer
        apply(members[9], Purpose.MEDICAL, 15_000)  # waiting for the committee
        question = apply(members[10], Purpose.EMERGENCY, 30_000)
        applications.ask_for_information(
            actor=committee[0].user,  # type: ignore[arg-type]
            application=question,
            question="Demo: which landlord, and since when?",
        )
        if coordinator is not None and coordinator.user is not None:
            urgent = apply(members[11], Purpose.EMERGENCY, 20_000)
            applications.approve_emergency(
                actor=coordinator.user,
                application=urgent,
                amount=20_000,
                reason="Demo: arrested tonight, bail now.",
            )
