"""Helpers for browser journeys: screenshots, accessibility, page weight, TOTP codes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD
from union.models import Member

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Best practices are checked too: those that hurt (serious, critical), and these, which
# tell a screen-reader user where they are: everything inside a landmark, headings in order.
ALWAYS_FAIL = {"region", "heading-order", "scrollable-region-focusable"}
PAGE_BUDGET = 100 * 1024
PHONE_WIDTH = 360

# Set by the autouse fixture in conftest.py: where this test's screenshots go.
_current = {"test": "unknown", "count": 0}


_UNSAFE = re.compile(r"[^\w.-]+")


def start_test(name: str) -> None:
    _current["test"] = _UNSAFE.sub("_", name)
    _current["count"] = 0
    for old in (ARTIFACTS / _current["test"]).glob("*"):
        old.unlink(missing_ok=True)  # screenshots and weights of an earlier run would mislead


def shot(page: Page, name: str) -> Path:
    """Save a full-page screenshot: test-artifacts/browser/<test>/<nn>-<name>.png."""
    _current["count"] += 1
    folder = ARTIFACTS / str(_current["test"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{_current['count']:02d}-{_UNSAFE.sub('_', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


_axe = Axe()


def _fails(violation: dict[str, object]) -> bool:
    tags = violation.get("tags") or []
    return (
        any(tag in WCAG_TAGS for tag in tags)  # type: ignore[union-attr]
        or violation.get("impact") in ("serious", "critical")
        or violation.get("id") in ALWAYS_FAIL
    )


def axe_check(page: Page) -> None:
    """Fail if axe-core finds WCAG 2.x A/AA violations on the page as it is now, a serious or
    critical best-practice finding, or any of ALWAYS_FAIL ("region": content outside the
    landmarks).

    axe is injected with page.evaluate (the DevTools protocol), which the page's
    Content-Security-Policy (script-src 'self') does not govern: no CSP bypass is needed.
    Needs a page with JavaScript enabled.

    The page is scrolled to the top first: the quick-exit button is fixed on screen, so
    in the middle of a scroll it lies over whatever passes under it, and axe's
    target-size rule would depend on where the last step left the scroll position.
    """
    page.evaluate("window.scrollTo(0, 0)")
    results = _axe.run(
        page,
        options={
            "runOnly": {"type": "tag", "values": [*WCAG_TAGS, "best-practice"]},
            "resultTypes": ["violations"],
        },
    )
    violations = [v for v in results.response["violations"] if _fails(v)]
    if violations:
        lines = [f"{len(violations)} accessibility violation(s) on {page.url}:"]
        for violation in violations:
            lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
            for node in violation["nodes"]:
                lines.append("    " + " ".join(map(str, node["target"])))
        pytest.fail("\n".join(lines), pytrace=False)


def assert_fits_phone(page: Page) -> None:
    """Nothing sticks out sideways on a 360 px phone: the page never scrolls horizontally
    (wide tables scroll inside their own region instead)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE_WIDTH:
        culprits = page.evaluate(
            """(limit) => {
                const wide = el => el.getBoundingClientRect().right > limit + 1
                    && getComputedStyle(el).position !== 'fixed'
                    && !el.closest('.table-wrap, .table-container, .visually-hidden');
                return [...document.querySelectorAll('body *')]
                    .filter(el => wide(el) && ![...el.children].some(wide))
                    .slice(0, 5).map(el => el.tagName.toLowerCase()
                        + (el.id ? '#' + el.id : '') + (el.className ? '.' + el.className : '')
                        + ' ' + Math.round(el.getBoundingClientRect().width) + 'px');
            }""",
            PHONE_WIDTH,
        )
        pytest.fail(f"{page.url} is {width} px wide on a {PHONE_WIDTH} px phone: {culprits}")


def page_weight(page: Page) -> int:
    """Bytes transferred (headers and bodies) for the current document and what it loaded.

    The page fixtures disable the HTTP cache, so this is the cost of a first visit.
    """
    page.wait_for_load_state("load")
    total = 0
    for request in page._solidaire_requests:  # type: ignore[attr-defined]
        if request.url.startswith("data:"):
            continue
        sizes = request.sizes()
        total += sizes["responseHeadersSize"] + sizes["responseBodySize"]
    return total


def assert_light(page: Page, limit: int = PAGE_BUDGET) -> int:
    """The page, with its CSS, must cost less than `limit` bytes to load."""
    weight = page_weight(page)
    folder = ARTIFACTS / str(_current["test"])
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "weights.txt").open("a") as log:
        log.write(f"{weight:>8} {page.url}\n")
    assert weight < limit, f"{page.url} weighs {weight} bytes (limit {limit})"
    return weight


def totp_code(member: Member) -> str:
    """The code the member's authenticator app shows right now."""
    device = TOTPDevice.objects.get(user=member.user, confirmed=True)
    code = totp(
        device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift
    )
    return f"{code:0{device.digits}d}"


def sign_in(page: Page, base: str, person: Member, *, second_factor: bool = True) -> None:
    """Membership number and password, then (officers) the authenticator code, whatever the
    language of the screens: by the fields' ids, not their labels."""
    page.goto(f"{base}/account/login/")
    page.locator("#id_username").fill(person.user.username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main button[type=submit]").click()
    if second_factor:
        page.locator("#token").fill(totp_code(person))
        page.locator("main button[type=submit]").click()
    expect(page.locator("h1")).to_be_visible()


def check_in_french(page: Page, name: str, *, limit: int = PAGE_BUDGET) -> None:
    """What every step of a French journey must pass: the page is in French, fits a 360 px
    phone, passes axe (no serious or critical finding, nothing outside a landmark) and is
    light. A screenshot is kept."""
    page.wait_for_load_state("load")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    shot(page, name)
    assert_fits_phone(page)
    axe_check(page)
    assert_light(page, limit)
