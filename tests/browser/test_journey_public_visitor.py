"""A visitor on a 360 px phone, in French: the public site, every language of the switcher,
the know-your-rights guide with the branch's helpline, and a request to join that asks not
to be contacted (issue 14: items 1, 8, 10).

Every page fits the phone and passes axe: no serious or critical finding, nothing outside
a landmark, headings in order.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from tests.browser.helpers import PHONE_WIDTH, assert_fits_phone, assert_light, axe_check, shot
from tests.browser.test_cms_journey import public_site  # noqa: F401 - fixture
from union.models import Branch, Member, MemberStatus
from union.services import branches as branch_services

pytestmark = pytest.mark.browser

HELPLINE = "+223 20 22 00 00"
ENGLISH_NOTICE = "This page is not written in your language yet."


def check(page: Page, name: str) -> None:
    shot(page, name)
    assert_fits_phone(page)
    axe_check(page)
    assert_light(page, 200 * 1024)


def test_a_visitor_reads_the_guide_and_asks_to_join_without_being_contacted(
    live_server: Any,
    public_site: Any,  # noqa: F811 - the fixture
    new_page: Callable[..., Page],
    bamako: Branch,
) -> None:
    base = live_server.url
    branch_services.set_public_contact(
        actor=None,
        branch=bamako,
        helpline=HELPLINE,
        address="Hamdallaye ACI 2000, rue 311",
        hours="Du lundi au vendredi, 9 h à 17 h",
    )
    phone = new_page(language="fr")

    # --- The home page, in French. ---
    phone.goto(f"{base}/fr/")
    expect(phone.locator("html")).to_have_attribute("lang", "fr")
    expect(phone.get_by_role("heading", level=1)).to_be_visible()
    expect(phone.get_by_role("link", name=re.compile("Sortie rapide"))).to_be_visible()
    check(phone, "home")

    # --- Each language offered answers in that language; a fallback says so in it. ---
    switcher = phone.get_by_role("navigation", name="Langues")
    links = switcher.get_by_role("link")
    expect(links).to_have_count(len(settings.LANGUAGES))
    names = [links.nth(i).inner_text() for i in range(len(settings.LANGUAGES))]
    assert names == [name for _code, name in settings.LANGUAGES]  # each in its own name
    for code, name in settings.LANGUAGES:
        phone.get_by_role("navigation").get_by_role("link", name=name, exact=True).click()
        expect(phone.locator("html")).to_have_attribute("lang", code)
        assert f"/{code}/" in phone.url
        if code in ("km", "zu"):
            notice = phone.locator(f'p.notice[lang="{code}"]')
            expect(notice).to_be_visible()
            expect(notice).not_to_contain_text(ENGLISH_NOTICE)
        check(phone, f"home-{code}")
    phone.get_by_role("navigation").get_by_role("link", name="Français", exact=True).click()
    expect(phone.locator("html")).to_have_attribute("lang", "fr")

    # --- The know-your-rights guide, with the branch's helpline. ---
    phone.get_by_role("navigation", name="Rubriques").get_by_role(
        "link", name="Connaître ses droits"
    ).click()
    expect(phone.get_by_role("heading", name="Connaître ses droits", level=1)).to_be_visible()
    check(phone, "guides")
    phone.get_by_role("link", name="En cas d'arrestation").click()
    expect(phone.get_by_role("heading", name="En cas d'arrestation", level=1)).to_be_visible()
    expect(phone.get_by_role("heading", name="La ligne d'écoute de votre section")).to_be_visible()
    expect(phone.get_by_role("link", name=HELPLINE)).to_have_attribute(
        "href", "tel:" + HELPLINE.replace(" ", "")
    )
    check(phone, "guide")

    # --- The join form fits the phone, its selects too. ---
    phone.get_by_role("navigation", name="Principal").get_by_role("link", name="Adhérer").click()
    expect(phone.get_by_role("heading", name="Adhérer au syndicat", level=1)).to_be_visible()
    for select in (phone.locator("#lang-select"), phone.get_by_label("Où êtes-vous ?")):
        box = select.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH
    check(phone, "join")
    phone.get_by_label("Le nom que vous voulez que nous utilisions").fill("Nafi K.")
    phone.get_by_label("Où êtes-vous ?").select_option(label="Bamako")
    phone.get_by_label("Ne pas me contacter").check()
    phone.get_by_role("button", name="Envoyer ma demande").click()

    # --- The thank-you page tells the truth, and how to reach the branch. ---
    expect(phone.get_by_role("heading", name="Merci", level=1)).to_be_visible()
    expect(phone.get_by_text("Vous avez demandé à ne pas être contacté·e")).to_be_visible()
    expect(phone.get_by_text("de la manière que vous avez choisie")).to_have_count(0)
    expect(phone.get_by_role("link", name=HELPLINE)).to_be_visible()
    expect(phone.get_by_text("Du lundi au vendredi, 9 h à 17 h")).to_be_visible()
    check(phone, "thanks")
    applicant = Member.objects.get(working_name="Nafi K.")
    assert applicant.status == MemberStatus.APPLICANT and applicant.branch == bamako
    assert applicant.preferred_language == "fr"
