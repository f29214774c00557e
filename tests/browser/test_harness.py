"""The browser harness checks what it claims to: axe finds real problems under our CSP,
page weight counts the stylesheet, no-JS pages run no scripts, TOTP codes are accepted."""

from __future__ import annotations

from typing import Any

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page

from tests.browser.helpers import axe_check, page_weight, totp_code
from union.models import Member

pytestmark = pytest.mark.browser


def test_axe_check_fails_on_a_missing_label(live_server: Any, page: Page) -> None:
    page.goto(f"{live_server.url}/join/")
    axe_check(page)  # the real page is clean
    page.evaluate("() => document.querySelector('label[for=id_working_name]').remove()")
    with pytest.raises(pytest.fail.Exception, match=r"(?s)label .*#id_working_name"):
        axe_check(page)


def test_page_weight_counts_the_stylesheet(live_server: Any, page: Page) -> None:
    page.goto(f"{live_server.url}/")
    urls = [request.url for request in page._solidaire_requests]  # type: ignore[attr-defined]
    assert urls[0] == f"{live_server.url}/"
    assert any(url.endswith(".css") for url in urls)
    assert page_weight(page) > len(page.content().encode())


def test_page_nojs_runs_no_scripts(live_server: Any, page_nojs: Page) -> None:
    page_nojs.set_content(
        "<p id=x>off</p><script>document.getElementById('x').textContent='on'</script>"
    )
    assert page_nojs.inner_text("#x") == "off"


def test_totp_code_is_what_the_device_accepts(secretary: Member) -> None:
    device = TOTPDevice.objects.get(user=secretary.user)
    assert device.verify_token(totp_code(secretary))
