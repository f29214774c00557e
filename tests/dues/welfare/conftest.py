"""Welfare fixtures: Bamako's funds, its welfare committee, a crisis coordinator.

Personas added to tests/conftest.py's (all in Bamako, BKO, unless said otherwise):
- committee_a, committee_b, committee_c: BKO welfare committee; decide on applications.
- national_committee_a, _b: welfare committee at the national level; decide escalated
  applications and those of national funds.
- crisis_coordinator: BKO; may approve alone in an emergency, within the branch's limits.
- treasurer (tests/conftest.py): pays approved applications.

Funds: BKO emergency takes 20 % of every dues payment (rules in force since 2026-01-01,
at most 50 000 XOF a payout and 80 000 XOF a member in 12 months); the national legal fund
takes 5 %. `fill(fund, amount)` puts a grant in a fund.
"""

from __future__ import annotations

from datetime import date

import pytest

from dues import money
from dues.welfare.models import Fund, FundEntry, FundEntryKind, FundRule, Purpose
from dues.welfare.services import funds
from tests.conftest import _officer
from tests.dues.conftest import JOINED
from tests.factories import MemberFactory
from union.models import Member, Role

RULES_FROM = date(2026, 1, 1)
MAX_PAYOUT = 50_000
MEMBER_CAP = 80_000


@pytest.fixture
def committee_a(bamako) -> Member:
    return _officer(bamako, Role.WELFARE_COMMITTEE)


@pytest.fixture
def committee_b(bamako) -> Member:
    return _officer(bamako, Role.WELFARE_COMMITTEE)


@pytest.fixture
def committee_c(bamako) -> Member:
    return _officer(bamako, Role.WELFARE_COMMITTEE)


@pytest.fixture
def national_committee_a(bamako, national) -> Member:
    return _officer(bamako, Role.WELFARE_COMMITTEE, scope=national)


@pytest.fixture
def national_committee_b(segou, national) -> Member:
    return _officer(segou, Role.WELFARE_COMMITTEE, scope=national)


@pytest.fixture
def crisis_coordinator(bamako) -> Member:
    return _officer(bamako, Role.CRISIS_COORDINATOR)


def make_fund(branch, purpose: str, share_bp: int, **rule) -> Fund:
    """A fund with rules in force since RULES_FROM (written directly: the service only
    accepts rules from today on)."""
    fund = funds.create_fund(actor=None, branch=branch, purpose=purpose)
    FundRule.objects.create(fund=fund, effective_from=RULES_FROM, share_bp=share_bp, **rule)
    return fund


@pytest.fixture
def emergency_fund(bamako, bko_plan) -> Fund:
    return make_fund(
        bamako,
        Purpose.EMERGENCY,
        2000,
        max_payout=MAX_PAYOUT,
        max_per_member_year=MEMBER_CAP,
        good_standing_required=False,
    )


@pytest.fixture
def legal_fund(national, bko_plan) -> Fund:
    return make_fund(national, Purpose.LEGAL, 500, good_standing_required=False)


def fill(fund: Fund, amount: int) -> FundEntry:
    """A grant into the fund, as if a treasurer recorded it today."""
    return FundEntry.objects.create(
        fund=fund,
        kind=FundEntryKind.GRANT,
        amount=amount,
        currency=fund.currency,
        booked_on=money.local_today(fund.branch.time_zone),
        source="Test foundation",
    )


@pytest.fixture
def awa(bamako, bko_plan) -> Member:
    """The member helped: active, joined long ago, a login to apply herself."""
    return MemberFactory(
        branch=bamako, working_name="Awa Canary-Zebra", joined_on=JOINED, with_login=True
    )


def submit(member: Member, amount: int = 10_000, *, by: Member | None = None, **kwargs):
    """The member applies (or `by` applies for them) to the emergency fund."""
    from dues.welfare.services import applications

    actor = (by or member).user
    assert actor is not None
    return applications.submit_application(
        actor=actor,
        member=member,
        purpose=kwargs.pop("purpose", Purpose.EMERGENCY),
        amount=amount,
        note=kwargs.pop("note", "Arrested on Tuesday; bail is set."),
        **kwargs,
    )


def approve(application, *deciders: Member, amount: int | None = None, **kwargs):
    from dues.welfare.services import applications

    for decider in deciders:
        assert decider.user is not None
        application = applications.approve_application(
            actor=decider.user,
            application=application,
            amount=amount or application.amount_requested,
            reason=kwargs.get("reason", "Urgent and within the rules."),
            **{k: v for k, v in kwargs.items() if k != "reason"},
        )
    return application


@pytest.fixture
def funded(emergency_fund) -> Fund:
    fill(emergency_fund, 100_000)
    return emergency_fund


@pytest.fixture
def approved(awa, funded, committee_a, committee_b):
    """Awa's application for 10 000 XOF, approved by committee A and B."""
    return approve(submit(awa), committee_a, committee_b)
