"""A crisis call-out from a member's phone to its closing, on 360 px phones.

A Bamako member reports that she is in danger; the responder on duty gets a text with a
code and nothing else, opens the call-out in the office, says she is going, arrives,
marks it done; the crisis coordinator closes it with its outcome. The member's report
works without JavaScript. Every page passes axe (WCAG 2.x A/AA) and weighs under 100 KB.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from crisis.models import Callout, CalloutStatus, Position
from tests.browser.helpers import assert_light, axe_check, shot, sign_in
from tests.crisis.conftest import crisis_officer, slot, texts_to
from tests.factories import MemberFactory
from union.models import Branch, ContactPreference, Role

pytestmark = pytest.mark.browser


def check(page: Page, name: str, *, javascript: bool = True) -> None:
    shot(page, name)
    if javascript:
        axe_check(page)
    assert_light(page)


def open_callout(page: Page, code: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Office").click()
    page.get_by_role("link", name="Crisis call-outs").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Crisis call-outs")
    page.get_by_role("link", name=code, exact=True).click()
    expect(page.get_by_role("heading", name=f"Call-out {code}", level=1)).to_be_visible()


@pytest.mark.django_db(transaction=True)
def test_member_reports_responder_goes_coordinator_closes(
    live_server: Any, new_page: Callable[..., Page], bamako: Branch
) -> None:
    base = live_server.url
    responder = crisis_officer(bamako, Role.CRISIS_RESPONDER, "+22376000001")
    coordinator = crisis_officer(bamako, Role.CRISIS_COORDINATOR, "+22376000003")
    slot(bamako, responder, Position.PRIMARY)
    reporter = MemberFactory(
        branch=bamako,
        working_name="Awa Canary",
        with_login=True,
        phone="+22376000006",
        consent_sms=True,
        contact_preference=ContactPreference.SMS,
    )

    # --- The member reports from a cheap phone, JavaScript off. ---
    phone = new_page(javascript=False)
    sign_in(phone, base, reporter, second_factor=False)
    phone.goto(f"{base}/crisis/report/")
    expect(phone.get_by_role("heading", name="Ask the crisis team for help")).to_be_visible()
    check(phone, "report-form", javascript=False)
    phone.get_by_role("radio", name="Me", exact=True).check()
    phone.get_by_label("What happened?").select_option("client_violence")
    phone.get_by_role("radio", name="Yes", exact=True).check()
    phone.get_by_label("Where? (area or landmark)").fill("Behind the Hippodrome market")
    phone.get_by_role("checkbox", name="Medical care").check()
    phone.get_by_role("button", name="Send to the crisis team").click()
    expect(phone.get_by_text("The crisis team has been alerted.")).to_be_visible()
    check(phone, "my-reports", javascript=False)
    callout = Callout.objects.get()
    (alert,) = texts_to(responder)
    assert callout.code in alert and "Canary" not in alert and "Hippodrome" not in alert

    # --- The responder on duty acknowledges on her phone. ---
    duty = new_page()
    sign_in(duty, base, responder, second_factor=True)
    open_callout(duty, callout.code)
    expect(duty.get_by_text("Behind the Hippodrome market")).to_be_visible()
    check(duty, "callout-alerted")
    duty.get_by_role("button", name="I am going").click()
    expect(duty.get_by_text("It is yours.")).to_be_visible()
    duty.get_by_role("button", name="I have arrived").click()
    expect(duty.get_by_text("Noted: you are there.")).to_be_visible()
    check(duty, "callout-on-scene")
    duty.get_by_role("button", name="Done: help given").click()
    expect(duty.get_by_text("Marked done.")).to_be_visible()

    # --- The coordinator closes it with its outcome. ---
    office = new_page()
    sign_in(office, base, coordinator, second_factor=True)
    office.goto(f"{base}/crisis/office/")
    check(office, "dashboard")
    office.get_by_role("link", name=callout.code, exact=True).click()
    office.get_by_label("Outcome").select_option("helped")
    office.get_by_role("button", name="Close the call-out").click()
    expect(office.get_by_text("Call-out closed.")).to_be_visible()
    check(office, "callout-closed")

    callout.refresh_from_db()
    assert callout.status == CalloutStatus.CLOSED
    assert callout.acknowledged_at and callout.arrived_at and callout.resolved_at
    kinds = list(callout.steps.values_list("kind", flat=True))
    assert kinds[:2] == ["reported", "dispatched"] and kinds[-1] == "closed"
