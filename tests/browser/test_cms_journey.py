"""The public site, from an editor's draft to a visitor's quick exit.

An editor drafts a campaign in French and submits it; she cannot approve it herself; a
second editor approves it; it appears on the public site, on a small phone, in French; and
the quick-exit button leaves for an ordinary site, with no way back to the union's pages
through the Back button.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from cms import cache as page_cache
from cms.models import CampaignPage
from tests.browser.helpers import assert_light, axe_check, shot, totp_code
from tests.cms.builders import demo_site
from tests.cms.conftest import _editor
from tests.factories import PASSWORD
from union.models import Branch, Member

pytestmark = pytest.mark.browser

NEUTRAL = "https://www.bbc.com/weather"
ELSEWHERE = "https://search.example/?q=recipes"
TITLE = "Des comptes en banque pour toutes"
HOME_BUDGET = 200 * 1024  # the home page, pictures included


@pytest.fixture
def desk(browser: Browser, live_server: Any) -> Iterator[Callable[[], Page]]:
    """An office computer (editors work at a desk), one per person."""
    contexts: list[BrowserContext] = []

    def make() -> Page:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en")
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def public_site(transactional_db: None, bamako: Branch, segou: Branch) -> Any:
    cache.clear()
    page_cache.forget_local()
    built = demo_site()
    yield built
    cache.clear()
    page_cache.forget_local()


def outside_sites(page: Page) -> None:
    """The network is closed in tests: answer for the two other sites the visitor uses."""

    def answer(route: Route) -> None:
        title = "Weather" if "bbc.com" in route.request.url else "Search"
        route.fulfill(
            status=200,
            content_type="text/html",
            body=f"<!doctype html><title>{title}</title><h1>{title}</h1>",
        )

    page.route(re.compile(r"^https://(www\.bbc\.com|search\.example)/.*"), answer)


def sign_in_to_the_admin(page: Page, base: str, member: Member) -> None:
    page.goto(f"{base}/cms-admin/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Membership number").fill(member.user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Second step")).to_be_visible()
    page.get_by_label("6-digit code").fill(totp_code(member))
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_url(f"{base}/cms-admin/")


def test_a_french_campaign_from_draft_to_public_and_a_quick_exit(
    live_server: Any,
    public_site: Any,
    desk: Callable[[], Page],
    new_page: Callable[..., Page],
    bamako: Branch,
    segou: Branch,
) -> None:
    base = live_server.url
    writer_member = _editor(bamako)
    reviewer_member = _editor(segou)

    # --- An editor drafts a campaign in French and submits it for approval. ---
    writer = desk()
    sign_in_to_the_admin(writer, base, writer_member)
    writer.goto(f"{base}/cms-admin/pages/add/cms/campaignpage/{public_site.campaigns_fr.pk}/")
    writer.locator("#id_title").fill(TITLE)
    writer.locator("#id_intro").fill("Les banques nous ferment leurs portes.")
    writer.locator("#id_aim").fill("Que les banques ouvrent des comptes aux travailleuses du sexe.")
    shot(writer, "draft")
    writer.get_by_role("button", name="More actions").click()
    writer.get_by_role("button", name="Submit to Second editor approval").click()
    expect(writer.get_by_text("created and submitted for moderation", exact=False)).to_be_visible()
    campaign = CampaignPage.objects.get(title=TITLE)
    assert not campaign.live
    assert campaign.url == "/fr/campagnes/des-comptes-en-banque-pour-toutes/"

    # She cannot approve her own work: no such action is offered to her.
    writer.goto(f"{base}/cms-admin/pages/{campaign.pk}/edit/")
    writer.get_by_role("button", name="More actions").click()
    shot(writer, "no-approval-for-the-writer")
    expect(writer.get_by_role("button", name=re.compile("Approve"))).to_have_count(0)

    # Not on the public site yet.
    visitor = new_page()
    outside_sites(visitor)
    assert visitor.goto(f"{base}{campaign.url}").status == 404

    # --- A second editor approves it. ---
    reviewer = desk()
    sign_in_to_the_admin(reviewer, base, reviewer_member)
    expect(reviewer.get_by_text(TITLE).first).to_be_visible()  # awaiting her review
    shot(reviewer, "dashboard")
    reviewer.goto(f"{base}/cms-admin/pages/{campaign.pk}/edit/")
    reviewer.get_by_role("button", name="More actions").click()
    reviewer.get_by_role("button", name="Approve and publish").click()
    expect(reviewer.get_by_text("has been updated", exact=False).first).to_be_visible()
    campaign.refresh_from_db()
    assert campaign.live

    # --- A visitor on a small phone, coming from another site, finds it in French. ---
    visitor.goto(ELSEWHERE)
    visitor.goto(f"{base}/fr/")
    expect(visitor.get_by_role("heading", level=1)).to_be_visible()
    shot(visitor, "home-fr")
    axe_check(visitor)
    assert_light(visitor, HOME_BUDGET)
    visitor.get_by_role("navigation", name="Rubriques").get_by_role(
        "link", name="Campagnes"
    ).click()
    expect(visitor.get_by_role("heading", name="Campagnes", level=1)).to_be_visible()
    visitor.get_by_role("link", name=TITLE).click()
    expect(visitor.get_by_role("heading", name=TITLE, level=1)).to_be_visible()
    assert visitor.url == f"{base}{campaign.url}"
    shot(visitor, "campaign-fr")
    axe_check(visitor)
    assert_light(visitor)

    # The quick exit is the first thing the keyboard reaches.
    visitor.keyboard.press("Tab")
    focused = visitor.evaluate("document.activeElement.getAttribute('data-quick-exit')")
    assert focused is not None

    # --- Quick exit: an ordinary site, and Back does not lead to the union's pages. ---
    visitor.get_by_role("link", name=re.compile("Sortie rapide")).click()
    visitor.wait_for_url(NEUTRAL)
    expect(visitor.get_by_role("heading", name="Weather")).to_be_visible()
    shot(visitor, "after-quick-exit")
    visitor.go_back()
    visitor.wait_for_load_state()
    assert not visitor.url.startswith(base), visitor.url
    assert visitor.url in (ELSEWHERE, NEUTRAL)
    visitor.go_forward()
    visitor.wait_for_load_state()
    assert not visitor.url.startswith(base), visitor.url


def test_escape_leaves_and_without_javascript_the_exit_is_a_link(
    live_server: Any, public_site: Any, new_page: Callable[..., Page]
) -> None:
    base = live_server.url
    page = new_page()
    outside_sites(page)
    page.goto(f"{base}/en/")
    page.keyboard.press("Escape")
    page.wait_for_url(NEUTRAL)

    plain = new_page(javascript=False)
    outside_sites(plain)
    plain.goto(f"{base}{public_site.campaign.url}")
    axe_ready = plain.get_by_role("link", name=re.compile("Quick exit"))
    expect(axe_ready).to_have_attribute("href", NEUTRAL)
    axe_ready.click()
    plain.wait_for_url(NEUTRAL)


def test_on_a_connection_too_slow_for_the_scripts_the_exit_still_leaves_no_way_back(
    live_server: Any, public_site: Any, new_page: Callable[..., Page]
) -> None:
    """site.js never arrives (a stalled 2G download): the page is up, the visitor moves to
    another page and then must leave at once. The quick exit's inline script does it all."""
    base = live_server.url
    page = new_page()
    outside_sites(page)
    stalled: list[Route] = []
    page.route(
        re.compile(r".*/site(\.[0-9a-f]+)?\.js$"), lambda route: stalled.append(route)
    )  # never answered
    page.goto(ELSEWHERE)
    page.goto(f"{base}/en/", wait_until="commit")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Campaigns").click()
    expect(page.get_by_role("heading", name="Campaigns", level=1)).to_be_visible()
    assert stalled, "the page asked for site.js"
    # Still waiting for site.js: the deferred script has not run (no DOMContentLoaded).
    assert page.evaluate("document.readyState") == "interactive"
    page.get_by_role("link", name=re.compile("Quick exit")).click()
    page.wait_for_url(NEUTRAL)
    page.go_back(wait_until="commit")
    assert page.url == ELSEWHERE, page.url


def test_a_video_loads_nothing_until_played(
    live_server: Any, public_site: Any, new_page: Callable[..., Page]
) -> None:
    from cms.models import StandardPage
    from tests.cms.builders import add_page

    page_with_video = add_page(
        public_site.home,
        StandardPage(
            title="Our march on film",
            slug="film",
            body=[
                (
                    "video",
                    {
                        "url": "https://www.youtube.com/watch?v=abcdefghijk",
                        "title": "The march",
                        "poster": None,
                        "transcript": "",
                    },
                )
            ],
        ),
    )
    base = live_server.url
    page = new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.route(
        re.compile(r"^https://www\.youtube-nocookie\.com/.*"),
        lambda route: route.fulfill(
            status=200, content_type="text/html", body="<!doctype html><title>player</title>"
        ),
    )
    page.goto(f"{base}{page_with_video.url}")
    page.wait_for_load_state("load")
    assert [url for url in requested if not url.startswith(base)] == []
    assert page.locator("iframe").count() == 0
    shot(page, "video-before")
    axe_check(page)
    page.get_by_role("link", name="Play the video: The march").click()
    expect(page.locator("iframe.video-frame")).to_have_attribute(
        "src", "https://www.youtube-nocookie.com/embed/abcdefghijk?autoplay=1"
    )
    assert any(url.startswith("https://www.youtube-nocookie.com/") for url in requested)
