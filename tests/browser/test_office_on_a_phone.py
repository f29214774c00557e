"""Every office screen fits a 360 px phone in French, with its tables scrolling inside a
region the keyboard can reach, and passes axe (issue 14, item 3).

The Bamako treasurer and secretary open each of their screens with a realistic branch
behind them: three months charged, cash and mobile money taken, a payment waiting for the
second officer, an applicant, a register file being imported.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from dues import money
from dues.models import LedgerEntry
from dues.services import ledger, plans, runs
from tests.browser.helpers import assert_fits_phone, axe_check, shot, sign_in
from tests.factories import PASSWORD, MemberFactory
from union.models import Branch, Member, RegistrationSource

pytestmark = pytest.mark.browser

LONG_NAME = "Aminata Dembélé-Traoré dite « la grande sœur du quartier »"


def visit(page: Page, url: str, name: str) -> None:
    response = page.goto(url)
    assert response is not None and response.status == 200, f"{url}: {response and response.status}"
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    shot(page, name)
    assert_fits_phone(page)
    axe_check(page)


def branch_with_dues(bamako: Branch, treasurer: Member) -> dict[str, Any]:
    bamako.mobile_money_providers = ["Orange Money", "Moov Money"]
    bamako.save(update_fields=["mobile_money_providers"])
    plans.set_dues_plan(
        actor=None,
        branch=bamako,
        monthly_amount=1000,
        solidarity_amount=500,
        confirm_threshold=5000,
    )
    today = money.local_today(bamako.time_zone)
    people = [
        MemberFactory(
            branch=bamako,
            working_name=LONG_NAME,
            joined_on=date(2025, 1, 1),
            preferred_language="fr",
        ),
        *[
            MemberFactory(branch=bamako, working_name=f"Membre {i}", joined_on=date(2025, 1, 1))
            for i in range(12)
        ],
    ]
    current = money.month_start(today)
    for months_back in (2, 1, 0):
        runs.charge_period(period=money.add_months(current, -months_back), branch=bamako)
    payer = people[0]

    def take(amount: int, receipt: str, day: date, **mobile: str) -> LedgerEntry:
        method = "mobile_money" if mobile else "cash"
        return ledger.record_payment(
            actor=treasurer.user,
            member=payer,
            amount=amount,
            currency="XOF",
            method=method,
            receipt_number=receipt,
            paid_on=day,
            **mobile,
        )

    cash = take(1000, "BKO-0001", today)
    yesterday = today - timedelta(days=1) if today.day > 1 else today
    take(6000, "BKO-0002", yesterday, provider="Orange Money", external_id="OM-2026-000123456")
    return {"payer": payer, "cash": cash}


@pytest.mark.django_db(transaction=True)
def test_every_office_screen_fits_a_phone_in_french(
    live_server: Any,
    new_page: Callable[..., Page],
    bamako: Branch,
    treasurer: Member,
    secretary: Member,
    tmp_path: Path,
) -> None:
    base = live_server.url
    data = branch_with_dues(bamako, treasurer)
    payer: Member = data["payer"]
    MemberFactory(
        branch=bamako, applicant=True, working_name=LONG_NAME, source=RegistrationSource.PUBLIC
    )
    waiting = LedgerEntry.objects.get(receipt_number="BKO-0002")

    counter = new_page(language="fr")
    sign_in(counter, base, treasurer)
    for url, name in [
        ("/office/", "office-home"),
        ("/office/members/", "register"),
        (f"/office/members/{payer.public_id}/", "member"),
        ("/dues/office/?branch=BKO", "dues-dashboard"),
        (f"/dues/office/members/?q={payer.number}", "find-member"),
        (f"/dues/office/members/{payer.public_id}/", "member-account"),
        ("/dues/office/ledger/", "ledger"),
        ("/dues/office/arrears/?branch=BKO", "arrears"),
        (f"/dues/office/cash-book/?branch=BKO&day={waiting.booked_on.isoformat()}", "cash-book"),
        ("/dues/office/plan/BKO/", "plan"),
        ("/dues/office/export/", "ledger-export"),
        (f"/dues/receipts/{waiting.public_id}/", "receipt"),
        (f"/dues/office/entries/{data['cash'].public_id}/correct/", "correct"),
        ("/dues/office/card-events/", "card-events"),
    ]:
        visit(counter, f"{base}{url}", name)

    # The counter form: today's date is there, and the fields follow the method.
    counter.goto(f"{base}/dues/office/members/{payer.public_id}/")
    today = money.local_today(bamako.time_zone).isoformat()
    expect(counter.locator("#id_paid_on")).to_have_value(today)
    expect(counter.locator("#id_external_id")).to_be_hidden()
    counter.get_by_label("Mobile money", exact=True).check()
    expect(counter.locator("#id_external_id")).to_be_visible()
    expect(counter.locator("#id_provider")).to_be_visible()
    shot(counter, "counter-mobile-money")
    axe_check(counter)

    office = new_page(language="fr")
    sign_in(office, base, secretary)
    applicant = Member.objects.get(status="applicant")
    for url, name in [
        ("/office/applicants/", "applicants"),
        (f"/office/applicants/{applicant.public_id}/", "applicant"),
        ("/office/register/", "register-someone"),
        ("/office/roles/", "roles"),
        ("/office/export/", "register-export"),
        (f"/office/members/{payer.public_id}/edit/", "member-edit"),
        ("/office/votes/", "votes-office"),
        ("/office/votes/new/", "vote-new"),
        ("/office/import/", "import"),
    ]:
        visit(office, f"{base}{url}", name)

    register = tmp_path / "registre.csv"
    register.write_text(
        "number,working_name,branch,status,phone\n"
        + "".join(f",Nouvelle membre {i} avec un nom assez long,BKO,active,\n" for i in range(8))
        + ",,BKO,active,pas un numéro\n",
        encoding="utf-8",
    )
    office.locator("#id_file").set_input_files(str(register))
    office.locator("main button[type=submit]").click()
    expect(office.locator("h1")).to_be_visible()
    shot(office, "import-preview")
    assert_fits_phone(office)
    axe_check(office)

    member_phone = new_page(language="fr")
    member = MemberFactory(branch=bamako, working_name="Fanta", with_login=True)
    member_phone.goto(f"{base}/account/login/")
    member_phone.locator("#id_username").fill(member.user.username)
    member_phone.locator("#id_password").fill(PASSWORD)
    member_phone.locator("main button[type=submit]").click()
    for url, name in [
        ("/account/", "my-account"),
        ("/dues/my/", "my-dues"),
        ("/dues/my/statement/", "statement"),
    ]:
        visit(member_phone, f"{base}{url}", name)
