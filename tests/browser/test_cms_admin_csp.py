"""The Wagtail admin works under its Content-Security-Policy (cms/admin_guard.py), which
allows no inline script: the page editor loads, its date pickers and choosers open, the
schedule dialog works, and a draft is saved, with no violation reported by the browser."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from cms import cache as page_cache
from cms.models import EventPage
from tests.browser.test_cms_journey import sign_in_to_the_admin
from tests.cms.builders import demo_site
from tests.cms.conftest import _editor
from union.models import Branch

pytestmark = pytest.mark.browser


@pytest.fixture
def desk(browser: Browser, live_server: Any) -> Iterator[Callable[[], Page]]:
    contexts: list[BrowserContext] = []

    def make() -> Page:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en")
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def _watch(page: Page) -> list[str]:
    """Every CSP violation and script error the browser reports on the page."""
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        text = message.text
        if "Content Security Policy" in text or "Refused to" in text:
            problems.append(text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    return problems


def test_the_page_editor_loads_and_saves_without_a_policy_violation(
    live_server: Any, transactional_db: None, bamako: Branch, segou: Branch, desk
) -> None:
    cache.clear()
    page_cache.forget_local()
    site = demo_site()
    base = live_server.url
    page = desk()
    problems = _watch(page)
    sign_in_to_the_admin(page, base, _editor(bamako))

    # An event: two date-and-time pickers in the form.
    page.goto(f"{base}/cms-admin/pages/{site.march.pk}/edit/")
    expect(page.locator("#id_title")).to_be_visible()
    page.locator("#id_start").click()
    expect(page.locator(".xdsoft_datetimepicker:visible").first).to_be_visible()
    page.keyboard.press("Escape")
    page.locator("#id_title").fill("March on 3 March, from the market")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_text("has been updated", exact=False).first).to_be_visible()
    march = EventPage.objects.get(pk=site.march.pk)
    assert march.get_latest_revision().as_object().title == "March on 3 March, from the market"

    # The schedule dialog (its pickers) and an image chooser.
    page.goto(f"{base}/cms-admin/pages/{site.campaign.pk}/edit/")
    expect(page.locator("#id_title")).to_be_visible()
    page.get_by_role("button", name="Toggle status").click()
    page.get_by_role("button", name="Set schedule").click()
    expect(page.locator("#id_go_live_at")).to_be_visible()
    page.locator("#id_go_live_at").click()
    expect(page.locator(".xdsoft_datetimepicker:visible").first).to_be_visible()
    page.goto(f"{base}/cms-admin/pages/{site.campaign.pk}/edit/")
    page.get_by_role("tab", name="Promote").click()
    page.locator("#panel-child-promote-social_image-section [data-chooser-action-choose]").click()
    expect(page.get_by_role("dialog").get_by_text("Choose an image")).to_be_visible()

    page.goto(f"{base}/cms-admin/images/")
    page.goto(f"{base}/cms-admin/")
    assert problems == []
