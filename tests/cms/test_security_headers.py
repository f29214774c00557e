"""Security headers, as the Mozilla HTTP Observatory scores them, on every kind of page: a
member's, an office bearer's, a public (CMS) page and the CMS admin, served over HTTPS.

The settings are server mode's own, and requests come as nginx passes them on (plain HTTP
with X-Forwarded-Proto: https, docs/deploy.md). No page runs an inline script (the public
pages allow only the quick exit's, by its hash); the CMS admin alone allows inline styles
(Wagtail's style attributes; the Observatory does not score that down, see
cms/admin_guard.py).
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


# Every setting that shapes a response's security headers and cookies, as server mode sets
# them (read from a real start of the settings with a server-mode environment below).
SECURITY_SETTINGS = (
    "SECURE_HTTPS",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_REFERRER_POLICY",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "LANGUAGE_COOKIE_SECURE",
    "X_FRAME_OPTIONS",
    "CONTENT_SECURITY_POLICY",
    "PERMISSIONS_POLICY",
)


@pytest.fixture(scope="session")
def server_mode_security(tmp_path_factory) -> dict:
    out = _server_mode(
        tmp_path_factory.mktemp("server"),
        "import json; from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n) for n in {SECURITY_SETTINGS!r}}}))",
    )
    return json.loads(out)


@pytest.fixture
def behind_tls(settings, server_mode_security):
    """Server mode's security settings, behind one reverse proxy that terminates TLS (nginx
    in docs/deploy.md): requests reach Django over plain HTTP with X-Forwarded-Proto set."""
    for name, value in server_mode_security.items():
        setattr(settings, name, tuple(value) if name == "SECURE_PROXY_SSL_HEADER" else value)
    settings.TRUSTED_PROXY_COUNT = 1
    assert settings.SECURE_HTTPS and settings.SECURE_SSL_REDIRECT


# What nginx sets on every request it passes on.
PROXIED = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_FOR": "198.51.100.7"}


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
    assert policy["default-src"] == "'self'"
    assert policy["script-src"].split()[0] == "'self'"
    assert "unsafe-inline" not in policy["script-src"]  # the admin too (an Observatory -20)
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    assert "http" not in response["Content-Security-Policy"]  # nothing from other sites
    if admin:
        assert policy["frame-ancestors"] == "'self'"
        assert response["X-Frame-Options"] == "SAMEORIGIN"
        assert policy["style-src"] == "'self' 'unsafe-inline'"  # style attributes only
    else:
        assert policy["frame-ancestors"] == "'none'"
        assert response["X-Frame-Options"] == "DENY"
        assert "unsafe-inline" not in response["Content-Security-Policy"]
    for cookie in response.cookies.values():
        assert cookie["secure"], cookie.key
        assert cookie["samesite"] in ("Lax", "Strict"), cookie.key


def test_plain_http_past_the_proxy_is_sent_to_https(behind_tls, client: Client, site):
    response = client.get(site.campaign.url, HTTP_X_FORWARDED_PROTO="http")
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
    assert "Strict-Transport-Security" not in response  # only ever sent over HTTPS


def test_a_member_page_sends_every_security_header(behind_tls, client, member, login):
    login(client, member)
    _check(client.get(reverse("union:profile"), **PROXIED))


def test_an_office_page_sends_every_security_header(behind_tls, client, secretary, login):
    login(client, secretary)
    _check(client.get(reverse("union:members"), **PROXIED))


def test_a_public_page_sends_every_security_header(behind_tls, client: Client, site):
    _check(client.get(site.campaign.url, **PROXIED))
    _check(client.get("/en/search/", {"q": "police"}, **PROXIED))


def test_a_language_choice_is_a_secure_http_only_cookie(behind_tls, client: Client, site):
    response = client.post(reverse("set_language"), {"language": "fr", "next": "/fr/"}, **PROXIED)
    cookie = response.cookies["language"]
    assert cookie["secure"] and cookie["httponly"]
    assert cookie["samesite"] == "Lax"


def test_the_cms_admin_sends_every_security_header(behind_tls, editor, site):
    client = verified(Client(), editor.user)
    _check(client.get("/cms-admin/", **PROXIED), admin=True)
    _check(client.get(f"/cms-admin/pages/{site.campaign.pk}/edit/", **PROXIED), admin=True)


def test_static_files_carry_the_headers_too(behind_tls, settings, db):
    # Served by whitenoise, which answers before the later middleware; without
    # collectstatic (as in tests), it finds the files where they are written.
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    response = Client().get("/static/css/site.css", **PROXIED)
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
