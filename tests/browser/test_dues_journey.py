"""Cash dues, from the treasurer's counter to the member's own receipt, on 360 px phones in
French (issue 14: items 2, 3, 4 and the treasurer's "Done when" journey).

The Bamako treasurer signs in with a password and an authenticator code and lands on the
office. She finds a member by number: the page says how the member stands in the one
wording every screen uses, and the payment date is already today. She records 6 000 XOF
in cash: above the branch's 5 000 XOF limit, so it waits for a second officer. The
secretary is told on her office home and confirms it; the treasurer closes the day's cash
book; the member signs in and finds the receipt, counted. Every page is checked by
check_in_french (French, 360 px, axe with no serious or critical finding and no "region",
under 100 KB with its CSS).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from dues import money, selectors
from dues.models import CashBookClose, EntryKind, LedgerEntry
from dues.services import runs
from tests.browser.helpers import check_in_french, sign_in
from tests.browser.test_journeys_in_french import dues_plan
from tests.factories import MemberFactory
from union.models import Branch, Member

pytestmark = pytest.mark.browser

RECEIPT = "BKO-0042"
OWES = re.compile(r"En règle\s:\s1\s000\sXOF à payer")


@pytest.mark.django_db(transaction=True)
def test_treasurer_records_cash_second_officer_confirms_member_sees_receipt(
    live_server: Any,
    new_page: Callable[..., Page],
    bamako: Branch,
    treasurer: Member,
    secretary: Member,
) -> None:
    base = live_server.url
    dues_plan(bamako)
    payer = MemberFactory(
        branch=bamako,
        working_name="Mariam K.",
        with_login=True,
        joined_on=date(2025, 1, 1),
        preferred_language="fr",
    )
    today = money.local_today(bamako.time_zone)
    runs.charge_period(period=money.month_start(today))

    # --- The treasurer lands on the office and opens the counter. ---
    counter = new_page(language="fr")
    sign_in(counter, base, treasurer)
    expect(counter.get_by_role("heading", name="Bureau", level=1)).to_be_visible()
    check_in_french(counter, "office-home")
    counter.get_by_role("list").get_by_role("link", name="Cotisations", exact=True).click()
    expect(counter.get_by_role("heading", level=1)).to_contain_text("Cotisations")
    check_in_french(counter, "dues-dashboard")
    counter.get_by_role("link", name="Enregistrer un paiement").click()
    expect(counter.get_by_role("heading", name="Trouver un membre")).to_be_visible()
    counter.get_by_label("Numéro, nom de travail ou téléphone").fill(payer.number)
    counter.get_by_role("button", name="Rechercher").click()
    check_in_french(counter, "find-member")
    counter.get_by_role("link", name="Mariam K.").click()
    expect(counter.get_by_role("heading", name="Mariam K.", level=1)).to_be_visible()
    expect(counter.locator("main")).to_contain_text(OWES)
    # The date is today in the branch's time zone: the first submit does not stall.
    expect(counter.locator("#id_paid_on")).to_have_value(today.isoformat())
    check_in_french(counter, "member-account")

    # --- 6 000 XOF in cash: above the branch's limit, it waits for a second officer. ---
    counter.get_by_label("Montant (XOF)").fill("6000")
    counter.get_by_label("Espèces").check()
    counter.get_by_label("Numéro de reçu").fill(RECEIPT)
    counter.get_by_role("button", name="Enregistrer le paiement").click()
    expect(counter.get_by_role("heading", name="Reçu", level=1)).to_be_visible()
    expect(counter.locator("main")).to_contain_text("6\u202f000\u00a0XOF")
    expect(counter.get_by_text("il comptera quand un·e deuxième responsable")).to_be_visible()
    check_in_french(counter, "receipt-waiting")
    entry = LedgerEntry.objects.get(receipt_number=RECEIPT)
    assert entry.amount == -6000 and entry.needs_confirmation

    # --- The secretary is told on her office home, and confirms. ---
    second = new_page(language="fr")
    sign_in(second, base, secretary)
    waiting = second.get_by_role("region", name="En attente de vous")
    expect(waiting).to_contain_text("Paiements à confirmer")
    check_in_french(second, "office-home-waiting")
    waiting.get_by_role("link", name=re.compile("Paiements à confirmer")).click()
    row = second.get_by_role("row").filter(has_text="Mariam K.")
    expect(row).to_contain_text("6\u202f000")
    check_in_french(second, "dues-waiting")
    row.get_by_role("button", name="Confirmer").click()
    expect(second.get_by_text("Paiement confirmé. Il compte désormais.")).to_be_visible()
    check_in_french(second, "dues-confirmed")
    assert selectors.awaiting_confirmation(treasurer.user, bamako).count() == 0

    # --- The treasurer closes the day's cash book. ---
    counter.goto(f"{base}/dues/office/cash-book/?branch=BKO&day={today.isoformat()}")
    expect(counter.get_by_role("heading", level=1)).to_contain_text("Caisse")
    check_in_french(counter, "cash-book")
    counter.get_by_role("button", name=re.compile("Clôturer")).click()
    expect(counter.get_by_text("La caisse est clôturée pour ce jour.")).to_be_visible()
    check_in_french(counter, "cash-book-closed")
    assert CashBookClose.objects.filter(branch=bamako, day=today).exists()

    # --- The member signs in, lands on her account and finds the receipt, counted. ---
    phone = new_page(language="fr")
    sign_in(phone, base, payer, second_factor=False)
    expect(phone.get_by_role("heading", name="Mon compte", level=1)).to_be_visible()
    phone.get_by_role("link", name="Mes cotisations").click()
    expect(phone.get_by_role("heading", name="Mes cotisations", level=1)).to_be_visible()
    expect(
        phone.get_by_text(re.compile(r"En règle\s:\s5\s000\sXOF payés d\u2019avance"))
    ).to_be_visible()
    check_in_french(phone, "my-dues")
    phone.get_by_role("link", name=re.compile(RECEIPT)).click()
    expect(phone.get_by_role("heading", name="Reçu", level=1)).to_be_visible()
    expect(phone.get_by_text("Compté", exact=True)).to_be_visible()
    expect(phone.get_by_text("6\u202f000\u00a0XOF")).to_be_visible()
    check_in_french(phone, "my-receipt")
    assert LedgerEntry.objects.filter(kind=EntryKind.PAYMENT, member=payer).count() == 1
