"""Welfare, from a member's request to the money paid, on small phones.

A Bamako member asks for 15 000 XOF from the emergency fund on her phone. Two welfare
committee members approve it (the second one for the amount the first approved), each on
their own phone; the treasurer pays it in cash; the member sees it paid. Every page passes
axe (WCAG 2.x A/AA) and weighs less than 100 KB with its CSS.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from dues.services import plans
from dues.welfare.models import FundEntry, FundRule, Payout, Purpose, WelfareApplication
from dues.welfare.services import funds
from tests.browser.helpers import assert_light, axe_check, shot, sign_in
from tests.conftest import _officer
from tests.factories import MemberFactory
from union.models import Branch, Member, Role

pytestmark = pytest.mark.browser


def check(page: Page, name: str) -> None:
    shot(page, name)
    axe_check(page)
    assert_light(page)


def decide(page: Page, base: str, decider: Member) -> None:
    sign_in(page, base, decider, second_factor=True)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Office").click()
    page.get_by_role("link", name="Welfare: 1 application to decide").click()
    expect(page.get_by_role("heading", name="Applications to decide", level=1)).to_be_visible()
    page.get_by_role("link", name="Awa Mobile").click()
    expect(page.get_by_text("My rent is due and I was evicted.")).to_be_visible()
    check(page, f"application-{decider.pk}")
    page.get_by_label("Reason").first.fill("Within the rules; she has nowhere to sleep.")
    page.get_by_role("button", name="Approve", exact=True).click()
    expect(page.get_by_text("Your approval is recorded.")).to_be_visible()


@pytest.mark.django_db(transaction=True)
def test_a_member_applies_two_committee_members_approve_the_treasurer_pays(
    live_server: Any,
    new_page: Callable[..., Page],
    bamako: Branch,
    treasurer: Member,
) -> None:
    base = live_server.url
    plans.set_dues_plan(
        actor=None,
        branch=bamako,
        monthly_amount=1000,
        solidarity_amount=500,
        confirm_threshold=5000,
    )
    fund = funds.create_fund(actor=None, branch=bamako, purpose=Purpose.EMERGENCY)
    FundRule.objects.create(
        fund=fund, effective_from=date(2026, 1, 1), share_bp=2000, good_standing_required=False
    )
    FundEntry.objects.create(
        fund=fund,
        kind="grant",
        amount=100_000,
        currency="XOF",
        booked_on=date.today(),  # noqa: DTZ011 - a test's fund, Bamako is on UTC
        source="Test foundation",
    )
    first, second = (_officer(bamako, Role.WELFARE_COMMITTEE) for _ in range(2))
    awa = MemberFactory(
        branch=bamako, working_name="Awa Mobile", with_login=True, joined_on=date(2025, 1, 1)
    )

    # --- The member asks for help on her phone. ---
    phone = new_page()
    sign_in(phone, base, awa, second_factor=False)
    phone.goto(f"{base}/dues/my/")
    phone.get_by_role("link", name="Help from the union (welfare)").click()
    expect(phone.get_by_role("heading", name="Help from the union", level=1)).to_be_visible()
    check(phone, "my-welfare")
    phone.get_by_role("link", name="Ask for help").click()
    phone.get_by_label("Emergency (violence, eviction, other urgent need)").check()
    phone.get_by_label("Amount needed (XOF)").fill("15000")
    phone.get_by_label("What happened?").fill("My rent is due and I was evicted.")
    phone.get_by_label("Cash").check()
    check(phone, "apply")
    phone.get_by_role("button", name="Send my request").click()
    expect(phone.get_by_text("Waiting for the committee")).to_be_visible()
    check(phone, "my-request-waiting")

    # --- Two committee members approve, each on their own phone. ---
    decide(new_page(), base, first)
    decide(new_page(), base, second)
    application = WelfareApplication.objects.get()
    assert (application.status, application.amount_granted) == ("approved", 15_000)

    # --- The treasurer pays in cash. ---
    desk = new_page()
    sign_in(desk, base, treasurer, second_factor=True)
    desk.get_by_role("navigation", name="Main").get_by_role("link", name="Office").click()
    desk.get_by_role("link", name="Welfare: 1 approved application to pay").click()
    check(desk, "to-pay")
    desk.get_by_role("link", name="Pay", exact=True).click()
    expect(desk.get_by_role("heading", name="Pay 15,000\u00a0XOF", level=1)).to_be_visible()
    check(desk, "pay")
    desk.get_by_role("button", name="Record the payment").click()
    expect(desk.get_by_text("The payment is recorded.")).to_be_visible()
    expect(desk.get_by_text("Nothing to pay.")).to_be_visible()
    assert Payout.objects.get().amount == 15_000

    # --- The member sees it paid. ---
    phone.reload()
    expect(phone.get_by_text("Paid", exact=True)).to_be_visible()
    check(phone, "my-request-paid")
