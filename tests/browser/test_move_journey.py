"""A member moves from Bamako to Johannesburg, on a 360 px phone, in French.

Mariam owes Bamako five months (5 000 XOF). Bamako's treasurer recorded 1 XOF = 0.0302
ZAR. In Johannesburg the secretary, whose phone speaks French, takes her in: a wrong
number first, then hers; the confirmation screen says what she owes and what it becomes
in rand; "settled" is refused while she owes; carried, the move is made and her page shows
where she came from. Bamako's officers are told without her name; Mariam signs in and
finds her account in rand. Every page passes axe (WCAG 2.x A/AA, and the "region" rule:
everything inside a landmark), with JavaScript off where a member would have it off.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from dues import money
from dues.models import EntryKind, LedgerEntry
from dues.services import moves as dues_moves
from dues.services import plans, runs
from tests.browser.helpers import assert_light, axe_check, shot, totp_code
from tests.conftest import _officer
from tests.factories import PASSWORD, MemberFactory
from union.models import Branch, Member, MemberMove, Notification, Role

pytestmark = pytest.mark.browser


def fr(text: str) -> str:
    """French text as the catalogue writes it: typographic apostrophes."""
    return text.replace("'", "\u2019")


def check(page: Page, name: str) -> None:
    shot(page, name)
    axe_check(page)  # "region" included: nothing outside a landmark
    assert_light(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{page.url} is {width}px wide on a 360px phone"


def in_french(page: Page, base: str) -> Page:
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "fr", "url": base}])
    return page


def sign_in(page: Page, base: str, person: Member, *, officer: bool) -> None:
    page.goto(f"{base}/account/login/")
    page.locator("input[name=username]").fill(person.user.username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    if officer:
        page.get_by_label("Code à 6 chiffres").fill(totp_code(person))
        page.get_by_role("button", name="Continuer").click()
    expect(page.get_by_role("navigation", name=re.compile("principal", re.I))).to_be_visible()


@pytest.mark.django_db(transaction=True)
def test_a_member_moving_from_bamako_to_johannesburg_is_taken_in_in_french(
    live_server: Any,
    new_page: Callable[..., Page],
    bamako: Branch,
    johannesburg: Branch,
    secretary: Member,
    treasurer: Member,
) -> None:
    base = live_server.url
    for branch, amount, threshold in ((bamako, 1000, 5000), (johannesburg, 5000, 50000)):
        plans.set_dues_plan(
            actor=None,
            branch=branch,
            monthly_amount=amount,
            solidarity_amount=amount // 2,
            confirm_threshold=threshold,
        )
    mariam = MemberFactory(
        branch=bamako,
        working_name="Mariam K.",
        with_login=True,
        joined_on=money.add_months(money.local_today(bamako.time_zone), -24),
    )
    this_month = money.month_start(money.local_today(bamako.time_zone))
    for back in range(4, -1, -1):
        runs.charge_period(period=money.add_months(this_month, -back), branch=bamako)
    dues_moves.record_rate(
        actor=treasurer.user, branch=bamako, to_currency="ZAR", rate=Decimal("0.0302")
    )
    for officer in (secretary, treasurer):
        officer.contact_preference, officer.email = "email", f"{officer.number}@example.org"
        officer.save()
    jhb_secretary = _officer(johannesburg, Role.SECRETARY)

    # --- Johannesburg's secretary opens the office in French. ---
    office = in_french(new_page(), base)
    sign_in(office, base, jhb_secretary, officer=True)
    office.goto(f"{base}/office/")
    expect(office.get_by_role("heading", name="Bureau", level=1)).to_be_visible()
    check(office, "office-home")
    office.get_by_role("link", name=fr("Accueillir un membre d'une autre section")).click()
    heading = office.get_by_role("heading", name=fr("Accueillir un membre d'une autre section"))
    expect(heading).to_be_visible()
    expect(office.get_by_text("elle le garde")).to_be_visible()
    check(office, "take-in")

    # A number nobody has: said plainly, nothing moves.
    office.get_by_label("Son numéro de membre").fill("BKO-999999")
    office.get_by_role("button", name="Continuer").click()
    expect(office.get_by_text(fr("Aucun membre n'a le numéro BKO-999999."))).to_be_visible()
    check(office, "take-in-unknown-number")

    office.get_by_label("Son numéro de membre").fill(mariam.number)
    expect(office.get_by_label(fr("Section qu'elle rejoint"))).to_have_value(str(johannesburg.pk))
    office.get_by_role("button", name="Continuer").click()
    expect(office.get_by_role("heading", name="Confirmer le changement de section")).to_be_visible()
    expect(office.get_by_text("Mariam K.")).to_be_visible()
    expect(
        office.get_by_text(re.compile(r"Cotisations à Bamako : 5\s000\sXOF dus\."))
    ).to_be_visible()
    expect(
        office.get_by_text(re.compile(r"1 XOF = 0,0302 ZAR\. Reporté : 151,00\sZAR\."))
    ).to_be_visible()
    expect(office.get_by_text("sans son nom ni sa nouvelle ville")).to_be_visible()
    check(office, "confirm")

    # "Settled" while she owes: refused, in French, nothing written.
    office.get_by_label(fr("Soldé : rien de dû, rien payé d'avance")).check()
    office.get_by_role("button", name=fr("L'accueillir")).click()
    expect(
        office.get_by_text(fr("Son compte à Bamako n'est pas soldé"), exact=False)
    ).to_be_visible()
    assert not MemberMove.objects.exists()
    check(office, "confirm-refused")

    office.get_by_label("Reporté dans la nouvelle section").check()
    office.get_by_role("button", name=fr("L'accueillir")).click()
    expect(
        office.get_by_text(
            f"Mariam K. est maintenant membre de Johannesburg. Son numéro reste {mariam.number}."
        )
    ).to_be_visible()
    expect(office.get_by_role("heading", name="Mariam K.", level=1)).to_be_visible()
    branches = office.get_by_role("region", name="Sections")
    expect(branches.get_by_role("row").filter(has_text="Bamako")).to_contain_text("Johannesburg")
    check(office, "member-after-move")
    office.goto(f"{base}/office/moves/")
    expect(office.get_by_role("heading", name="Membres qui ont changé de section")).to_be_visible()
    expect(office.get_by_role("row").filter(has_text=mariam.number)).to_contain_text("Bamako")
    check(office, "moves")

    # Both ledgers add up, each in its own currency.
    rows = LedgerEntry.objects.filter(member=mariam)
    assert sum(r.amount for r in rows.filter(branch=bamako)) == 0
    assert {r.currency for r in rows.filter(branch=bamako)} == {"XOF"}
    opening = rows.get(kind=EntryKind.OPENING)
    assert (opening.amount, opening.currency) == (15100, "ZAR")
    # Bamako's secretary and treasurer are told, with neither her name nor her number.
    told = Notification.objects.filter(kind="member_moved_out")
    assert set(told.values_list("member_id", flat=True)) == {secretary.pk, treasurer.pk}
    assert all(mariam.number not in n.body and "Mariam" not in n.body for n in told)

    # --- Mariam, on her own phone without JavaScript, finds her account in rand. ---
    phone = in_french(new_page(javascript=False), base)
    sign_in(phone, base, mariam, officer=False)
    phone.goto(f"{base}/dues/my/")
    expect(phone.get_by_text(re.compile(r"151,00\sZAR")).first).to_be_visible()
    shot(phone, "my-dues-in-rand")
    assert_light(phone)
