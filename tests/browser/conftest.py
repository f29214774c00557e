"""Real-browser fixtures: the system Chromium driven by Playwright against pytest-django's
live_server.

- `page`: a phone (360x740, touch, English) with JavaScript on; `page_nojs`: the same with
  JavaScript off. Each test gets fresh contexts; `new_page()` opens another person's phone.
- Helpers (shot, axe_check, assert_light, totp_code) live in tests/browser/helpers.py.

One Chromium serves every browser test in the run. Playwright's sync API keeps an asyncio
loop running in the main thread, so Django's async-unsafe guard is switched off while it
runs, and it is stopped as soon as the last browser test is done: tests that come after it
in the same session see no running loop.

Playwright never downloads browsers here: it launches /usr/bin/chromium (apt package
`chromium`; `make test` installs it), overridable with SOLIDAIRE_CHROMIUM.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, Request, sync_playwright

from tests.browser import helpers

CHROMIUM = os.environ.get("SOLIDAIRE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # The network is closed: no update checks, no sync, no component downloads.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "screen": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
    "locale": "en",
    "timezone_id": "Africa/Bamako",
}
DEFAULT_TIMEOUT_MS = 15_000


class _Chromium:
    """The run's one Chromium, started on first use and stopped after the last browser test."""

    def __init__(self) -> None:
        self.playwright: Playwright | None = None
        self.browser: Browser | None = None
        self._saved_env: str | None = None

    def get(self) -> Browser:
        if self.browser is None:
            # Playwright's sync API runs an event loop in this thread; Django would refuse
            # ORM calls from the test (fixtures, assertions) without this.
            self._saved_env = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
            self.playwright = sync_playwright().start()
            self.browser = self.playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS
            )
        return self.browser

    def stop(self) -> None:
        if self.browser is not None:
            self.browser.close()
            self.browser = None
        if self.playwright is not None:
            self.playwright.stop()
            self.playwright = None
            if self._saved_env is None:
                os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
            else:
                os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = self._saved_env


_chromium = _Chromium()


def _uses_browser(item: pytest.Item | None) -> bool:
    return item is not None and "browser" in getattr(item, "fixturenames", ())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    yield  # the test's own fixtures (pages, contexts) are closed by now
    if not _uses_browser(nextitem):
        _chromium.stop()


def pytest_sessionfinish(session: pytest.Session) -> None:
    _chromium.stop()


@pytest.fixture
def browser() -> Browser:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: apt-get install chromium (or set SOLIDAIRE_CHROMIUM)")
    return _chromium.get()


# --- pages ---------------------------------------------------------------------------


def _track_weight(page: Page) -> None:
    """Keep the requests made since the last main-frame navigation, for page_weight()."""
    page._solidaire_requests = []  # type: ignore[attr-defined]

    def on_request(request: Request) -> None:
        if request.is_navigation_request() and request.frame == page.main_frame:
            page._solidaire_requests = []  # type: ignore[attr-defined]
        page._solidaire_requests.append(request)  # type: ignore[attr-defined]

    page.on("request", on_request)


def _new_phone(
    browser: Browser, *, javascript: bool = True, language: str = "en", base_url: str = ""
) -> tuple[BrowserContext, Page]:
    context = browser.new_context(**{**PHONE, "locale": language}, java_script_enabled=javascript)
    if language != "en" and base_url:
        # As the language select leaves it: the screens answer in that language.
        context.add_cookies([{"name": "language", "value": language, "url": base_url}])
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    # Every page is weighed as on a first visit: nothing comes from the cache.
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    _track_weight(page)
    return context, page


@pytest.fixture
def new_page(browser: Browser, live_server: Any) -> Iterator[Callable[..., Page]]:
    """Open a fresh phone (own cookies): new_page(), new_page(javascript=False), or
    new_page(language="fr") for a phone whose screens are in French.

    live_server makes the test transactional: data is committed so the server thread sees
    it, and the tables are emptied afterwards (the flush's post_migrate puts the CMS site
    back, see cms.setup). pytest-django runs these after the ordinary database tests.
    """
    contexts: list[BrowserContext] = []

    def make(*, javascript: bool = True, language: str = "en") -> Page:
        context, page = _new_phone(
            browser, javascript=javascript, language=language, base_url=live_server.url
        )
        contexts.append(context)
        return page

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    return new_page()


@pytest.fixture
def page_nojs(new_page: Callable[..., Page]) -> Page:
    return new_page(javascript=False)


@pytest.fixture(autouse=True)
def _screenshots_folder(request: pytest.FixtureRequest) -> None:
    helpers.start_test(request.node.name)
