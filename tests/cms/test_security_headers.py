"""Security headers, as the Mozilla HTTP Observatory scores them, on every kind of page: a
member's, an office bearer's, a public (CMS) page and the CMS admin, served over HTTPS.

The CMS admin keeps 'unsafe-inline' (Wagtail 8 still writes inline scripts and styles,
see cms/admin_guard.py); it is reachable only after a password and the second factor.
Everything else allows no inline code but the quick exit's, by its hash.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from tests.cms.builders import verified
from tests.test_settings import GOOD, SETUP, _run

HSTS = "max-age=31536000; includeSubDomains; preload"
DENIED_FEATURES = ("camera", "microphone", "geolocation", "payment", "usb")


@pytest.fixture
def behind_tls(settings):
    """What SECURE_HTTPS sets in server mode (checked by test_server_mode_defaults below)."""
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.LANGUAGE_COOKIE_SECURE = True


def _policy(response) -> dict[str, str]:
    parts = filter(None, (p.strip() for p in response["Content-Security-Policy"].split(";")))
    return {name: value for name, _space, value in (p.partition(" ") for p in parts)}


def _check(response, *, admin: bool = False) -> None:
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == HSTS
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] in ("no-referrer", "same-origin")
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"
    features = dict(
        item.strip().split("=", 1) for item in response["Permissions-Policy"].split(",")
    )
    for feature in DENIED_FEATURES:
        assert features[feature] == "()", feature
    policy = _policy(response)
    assert policy["object-src"] == "'none'"
    assert policy["base-uri"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    assert "http" not in response["Content-Security-Policy"]  # nothing from other sites
    if admin:
        assert policy["frame-ancestors"] == "'self'"
        assert response["X-Frame-Options"] == "SAMEORIGIN"
    else:
        assert policy["frame-ancestors"] == "'none'"
        assert response["X-Frame-Options"] == "DENY"
        assert "unsafe-inline" not in response["Content-Security-Policy"]
    for cookie in response.cookies.values():
        assert cookie["secure"], cookie.key
        assert cookie["samesite"] in ("Lax", "Strict"), cookie.key


def test_a_member_page_sends_every_security_header(behind_tls, client, member, login):
    login(client, member)
    _check(client.get(reverse("union:profile"), secure=True))


def test_an_office_page_sends_every_security_header(behind_tls, client, secretary, login):
    login(client, secretary)
    _check(client.get(reverse("union:members"), secure=True))


def test_a_public_page_sends_every_security_header(behind_tls, client: Client, site):
    _check(client.get(site.campaign.url, secure=True))
    _check(client.get("/en/search/", {"q": "police"}, secure=True))


def test_a_language_choice_is_a_secure_http_only_cookie(behind_tls, client: Client, site):
    response = client.post(reverse("set_language"), {"language": "fr", "next": "/fr/"}, secure=True)
    cookie = response.cookies["language"]
    assert cookie["secure"] and cookie["httponly"]
    assert cookie["samesite"] == "Lax"


def test_the_cms_admin_sends_every_security_header(behind_tls, editor, site):
    client = verified(Client(), editor.user)
    _check(client.get("/cms-admin/", secure=True), admin=True)
    _check(client.get(f"/cms-admin/pages/{site.campaign.pk}/edit/", secure=True), admin=True)


def test_static_files_carry_the_headers_too(behind_tls, settings, db):
    # Served by whitenoise, which answers before the later middleware; without
    # collectstatic (as in tests), it finds the files where they are written.
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    response = Client().get("/static/css/site.css", secure=True)
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Cross-Origin-Resource-Policy"] == "same-origin"


def _server_mode(tmp_path: Path, code: str) -> str:
    result = _run(GOOD, "-c", f"{SETUP}; {code}", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_server_mode_defaults_are_preload_ready_and_cookies_secure(tmp_path):
    names = [
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "LANGUAGE_COOKIE_SECURE",
        "SESSION_COOKIE_HTTPONLY",
        "LANGUAGE_COOKIE_HTTPONLY",
        "SECURE_CONTENT_TYPE_NOSNIFF",
        "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    ]
    out = _server_mode(
        tmp_path,
        "import json; from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {names!r}}}))",
    )
    values = json.loads(out)
    assert values["SECURE_HSTS_SECONDS"] >= 31536000  # the preload list asks a year or more
    assert values.pop("SECURE_CROSS_ORIGIN_OPENER_POLICY") == "same-origin"
    del values["SECURE_HSTS_SECONDS"]
    assert values == dict.fromkeys(values, True)
