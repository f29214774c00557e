"""Joining the union, from the first visit to the member's own account, on a small phone.

A visitor asks to join; the Bamako secretary signs in with a password and an authenticator
code, approves the application and reads out a one-time code; the new member turns that
code into a password and signs in. Every page must pass axe (WCAG 2.x A/AA) and weigh less
than 100 KB with its CSS.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import assert_light, axe_check, shot, totp_code
from tests.factories import PASSWORD
from union.models import Branch, Member, MemberStatus

pytestmark = pytest.mark.browser

WORKING_NAME = "Nafi K."
NEW_PASSWORD = "mangoes-under-the-bridge-42"


def ask_to_join(page: Page, base_url: str, branch: Branch, *, check: bool = True) -> None:
    """From the home page to the thank-you page, as a visitor would."""
    page.goto(f"{base_url}/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    shot(page, "home")
    if check:
        axe_check(page)
    assert_light(page)

    page.get_by_role("link", name="Join us", exact=True).click()
    expect(page.get_by_role("heading", name="Join the union")).to_be_visible()
    shot(page, "join-form")
    if check:
        axe_check(page)
    assert_light(page)

    page.get_by_label("The name you want us to use").fill(WORKING_NAME)
    page.get_by_label("Where are you?").select_option(str(branch.pk))
    page.get_by_label("Do not contact me").check()
    shot(page, "join-form-filled")
    page.get_by_role("button", name="Send my request").click()

    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    assert page.url == f"{base_url}/join/thanks/"
    shot(page, "join-thanks")
    if check:
        axe_check(page)
    assert_light(page)


def sign_in_with_password(page: Page, base_url: str, username: str, password: str) -> None:
    page.goto(f"{base_url}/account/login/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Membership number").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_visitor_joins_secretary_approves_member_signs_in(
    live_server: Any, new_page: Callable[..., Page], bamako: Branch, secretary: Member
) -> None:
    base = live_server.url

    # --- A visitor asks to join. ---
    visitor = new_page()
    ask_to_join(visitor, base, bamako)
    applicant = Member.objects.get(working_name=WORKING_NAME)
    assert applicant.status == MemberStatus.APPLICANT
    assert applicant.branch == bamako

    # --- The secretary signs in: password, then the authenticator code. ---
    office = new_page()
    office.goto(f"{base}/account/login/")
    shot(office, "login")
    axe_check(office)
    assert_light(office)
    sign_in_with_password(office, base, secretary.user.username, PASSWORD)

    expect(office.get_by_role("heading", name="Second step")).to_be_visible()
    shot(office, "second-factor")
    axe_check(office)
    office.get_by_label("6-digit code").fill(totp_code(secretary))
    office.get_by_role("button", name="Continue").click()

    nav = office.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Office").click()
    expect(office.get_by_role("heading", name="Office", level=1)).to_be_visible()
    shot(office, "office")
    axe_check(office)
    assert_light(office)

    waiting = office.get_by_role("region", name="Waiting for you")
    waiting.get_by_role("link", name="Applications waiting").click()
    expect(office.get_by_role("heading", name="Applications waiting")).to_be_visible()
    shot(office, "applications")
    axe_check(office)
    assert_light(office)

    office.get_by_role("link", name=WORKING_NAME).click()
    expect(office.get_by_role("heading", name=WORKING_NAME, level=1)).to_be_visible()
    shot(office, "applicant")
    axe_check(office)
    assert_light(office)

    office.get_by_label("Create a login").check()
    office.get_by_role("button", name="Approve and give a number").click()
    expect(office.get_by_role("heading", name="Login code")).to_be_visible()
    shot(office, "login-code")
    axe_check(office)
    assert_light(office)
    slip = office.locator(".slip")
    number = slip.locator("strong").first.inner_text().strip()
    code = slip.locator(".code").inner_text().strip()
    assert number and code

    applicant.refresh_from_db()
    assert applicant.status == MemberStatus.ACTIVE
    assert applicant.number == number

    # --- The new member, on their own phone, turns the code into a password. ---
    member = new_page()
    member.goto(f"{base}/")
    member.get_by_role("link", name="I have a code from my branch").click()
    expect(member.get_by_role("heading", name="Set your password")).to_be_visible()
    shot(member, "set-password")
    axe_check(member)
    assert_light(member)
    member.get_by_label("Membership number").fill(number)
    member.get_by_label(re.compile(r"^Code:?$")).fill(code)
    member.get_by_label(re.compile(r"^New password:?$")).fill(NEW_PASSWORD)
    member.get_by_label("New password again").fill(NEW_PASSWORD)
    shot(member, "set-password-filled")
    member.get_by_role("button", name="Set my password").click()

    expect(member.get_by_text("Your password is set. You can sign in now.")).to_be_visible()
    shot(member, "password-set")
    sign_in_with_password(member, base, number, NEW_PASSWORD)

    member.get_by_role("navigation", name="Main").get_by_role("link", name="My account").click()
    expect(member.get_by_role("heading", name="My account", level=1)).to_be_visible()
    facts = member.locator("dl.facts")
    expect(facts).to_contain_text(WORKING_NAME)
    expect(facts).to_contain_text(number)
    shot(member, "my-account")
    axe_check(member)
    assert_light(member)


def test_join_works_without_javascript(live_server: Any, page_nojs: Page, bamako: Branch) -> None:
    ask_to_join(page_nojs, live_server.url, bamako, check=False)
    applicant = Member.objects.get(working_name=WORKING_NAME)
    assert applicant.status == MemberStatus.APPLICANT
    assert applicant.branch == bamako
