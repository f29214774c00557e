"""Cash dues, from the treasurer's counter to the member's own receipt, on small phones.

The Bamako treasurer signs in with a password and an authenticator code, finds a member by
number and records 6 000 XOF in cash: above the branch's 5 000 XOF limit, so it waits for
a second officer. The secretary confirms it from the dues dashboard. The member signs in
and finds the receipt, counted. Every page passes axe (WCAG 2.x A/AA) and weighs less
than 100 KB with its CSS.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from dues import money
from dues.models import EntryKind, LedgerEntry
from dues.services import plans, runs
from tests.browser.helpers import assert_light, axe_check, shot, totp_code
from tests.factories import PASSWORD, MemberFactory
from union.models import Branch, Member

pytestmark = pytest.mark.browser

RECEIPT = "BKO-0042"


def sign_in(page: Page, base: str, person: Member, *, officer: bool) -> None:
    page.goto(f"{base}/account/login/")
    page.get_by_label("Membership number").fill(person.user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    if officer:
        page.get_by_label("6-digit code").fill(totp_code(person))
        page.get_by_role("button", name="Continue").click()
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="My account")).to_be_visible()


def check(page: Page, name: str) -> None:
    shot(page, name)
    axe_check(page)
    assert_light(page)


def open_dues_office(page: Page) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Office").click()
    page.get_by_role("list").get_by_role("link", name="Dues", exact=True).click()
    expect(page.get_by_role("heading", name="Dues: Bamako", level=1)).to_be_visible()


@pytest.mark.django_db(transaction=True)
def test_treasurer_records_cash_second_officer_confirms_member_sees_receipt(
    live_server: Any,
    new_page: Callable[..., Page],
    bamako: Branch,
    treasurer: Member,
    secretary: Member,
) -> None:
    base = live_server.url
    plans.set_dues_plan(
        actor=None,
        branch=bamako,
        monthly_amount=1000,
        solidarity_amount=500,
        confirm_threshold=5000,
    )
    payer = MemberFactory(
        branch=bamako, working_name="Mariam K.", with_login=True, joined_on=date(2025, 1, 1)
    )
    runs.charge_period(period=money.month_start(money.local_today(bamako.time_zone)))

    # --- The treasurer takes 6 000 XOF in cash at the counter. ---
    counter = new_page()
    sign_in(counter, base, treasurer, officer=True)
    open_dues_office(counter)
    check(counter, "dues-dashboard")
    counter.get_by_role("link", name="Record a payment").click()
    expect(counter.get_by_role("heading", name="Find a member")).to_be_visible()
    counter.get_by_label("Number, working name or phone").fill(payer.number)
    counter.get_by_role("button", name="Search").click()
    check(counter, "find-member")
    counter.get_by_role("link", name="Mariam K.").click()
    expect(counter.get_by_role("heading", name="Mariam K.", level=1)).to_be_visible()
    check(counter, "member-account")

    counter.get_by_label("Amount (XOF)").fill("6000")
    counter.get_by_label("Cash").check()
    counter.get_by_label("Receipt number").fill(RECEIPT)
    shot(counter, "payment-form-filled")
    counter.get_by_role("button", name="Record the payment").click()
    expect(counter.get_by_role("heading", name="Receipt", level=1)).to_be_visible()
    expect(counter.get_by_text("it counts once a second officer confirms it")).to_be_visible()
    expect(counter.get_by_text("Waiting for a second officer")).to_be_visible()
    check(counter, "receipt-waiting")
    entry = LedgerEntry.objects.get(receipt_number=RECEIPT)
    assert entry.amount == -6000 and entry.needs_confirmation

    # --- The secretary, on her own phone, confirms it. ---
    second = new_page()
    sign_in(second, base, secretary, officer=True)
    open_dues_office(second)
    waiting = second.get_by_role("row").filter(has_text="Mariam K.")
    expect(waiting).to_contain_text("6,000")
    check(second, "dashboard-waiting")
    waiting.get_by_role("button", name="Confirm").click()
    expect(second.get_by_text("Payment confirmed. It counts now.")).to_be_visible()
    expect(second.get_by_text("Nothing is waiting.")).to_be_visible()
    check(second, "dashboard-confirmed")

    # --- The member signs in and finds the receipt, counted. ---
    phone = new_page()
    sign_in(phone, base, payer, officer=False)
    phone.get_by_role("navigation", name="Main").get_by_role("link", name="My account").click()
    phone.get_by_role("link", name="My dues").click()
    expect(phone.get_by_role("heading", name="My dues", level=1)).to_be_visible()
    expect(phone.get_by_text("In good standing: 5,000\u00a0XOF paid in advance.")).to_be_visible()
    check(phone, "my-dues")
    phone.get_by_role("link", name=f"receipt {RECEIPT}").click()
    expect(phone.get_by_role("heading", name="Receipt", level=1)).to_be_visible()
    expect(phone.get_by_text("Counted", exact=True)).to_be_visible()
    expect(phone.get_by_text("6,000\u00a0XOF")).to_be_visible()
    check(phone, "my-receipt")
    assert LedgerEntry.objects.filter(kind=EntryKind.PAYMENT, member=payer).count() == 1
