"""The two admins' rules, checked on every one of their addresses (tests/access.py).

- The Wagtail admin (/cms-admin/): only an editor (a union role, cms.editors) past the
  second factor. Visitors are sent to the union's sign-in; anyone else signed in is refused.
- The Django admin (settings.ADMIN_URL): only a superuser past the second factor. Visitors
  are sent to its sign-in, which is the union's; anyone else signed in is refused.

Each address is requested with sample arguments (an id that does not exist): the rule must
answer before any view looks anything up. Wagtail's two static assets (the JavaScript
translation catalogue and the icon sprite) are the same for everyone and hold nothing of
the union's; the password reset pages are turned off (they answer 404).
"""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from tests import access
from tests.cms.builders import verified
from tests.conftest import sign_in
from tests.factories import MemberFactory
from union.models import Member

pytestmark = pytest.mark.django_db

PUBLIC_ASSETS = ("/cms-admin/jsi18n/", "/cms-admin/sprite/")
SAMPLES = {"int": "999999", "str": "x", "slug": "x", "path": "x", "uuid": str(uuid.uuid4())}
CONVERTER = re.compile(r"<(?:(\w+):)?\w+>")


def _sample(route: str) -> str | None:
    """The route with sample arguments; None for a regular-expression route."""
    if any(ch in route for ch in "^$(["):
        return None
    return "/" + CONVERTER.sub(lambda m: SAMPLES.get(m.group(1) or "str", "x"), route)


def _addresses(prefix: str) -> list[str]:
    urls = {_sample(a.route) for a in access.addresses() if a.route.startswith(prefix)}
    return sorted(url for url in urls if url is not None)


def _final_path(client: Client, url: str) -> tuple[int, str]:
    response = client.get(url, follow=True)
    last = response.redirect_chain[-1][0] if response.redirect_chain else url
    return response.status_code, urlsplit(last).path


def test_the_rules_cover_many_addresses():
    # A guard against a walk that silently finds nothing (a renamed prefix).
    assert len(_addresses(access.WAGTAIL_ADMIN)) > 100
    assert len(_addresses(access.django_admin())) > 20


def test_visitors_are_sent_to_sign_in_from_every_wagtail_admin_address(client):
    wrong = []
    for url in _addresses(access.WAGTAIL_ADMIN):
        status, path = _final_path(client, url)
        if url in PUBLIC_ASSETS or (status == 404 and "password_reset" in url):
            continue
        if path != reverse("union:login"):
            wrong.append(f"{url}: {status} at {path}")
    assert not wrong, wrong


def test_no_one_but_an_editor_reaches_any_wagtail_admin_address(member, secretary):
    wrong = []
    for persona in (member, secretary):
        client = sign_in(Client(), persona)
        for url in _addresses(access.WAGTAIL_ADMIN):
            if url in PUBLIC_ASSETS:
                continue
            status, path = _final_path(client, url)
            # A member without a second factor is first sent to set one up.
            if status not in (403, 404) and path != reverse("union:two_factor"):
                wrong.append(f"{url}: {status} at {path}")
    assert not wrong, wrong


@pytest.fixture
def superuser(bamako) -> Member:
    person = MemberFactory(branch=bamako, with_login=True)
    person.user.is_superuser = person.user.is_staff = True
    person.user.save(update_fields=["is_superuser", "is_staff"])
    return person


def test_visitors_are_sent_to_sign_in_from_every_django_admin_address(client):
    wrong = []
    for url in _addresses(access.django_admin()):
        status, path = _final_path(client, url)
        if path != reverse("union:login"):
            wrong.append(f"{url}: {status} at {path}")
    assert not wrong, wrong


def test_no_one_but_a_verified_superuser_reaches_any_django_admin_address(
    secretary, national_coordinator, superuser
):
    unverified = Client()
    unverified.force_login(superuser.user)  # password only
    wrong = []
    for who, client in (
        ("secretary", sign_in(Client(), secretary)),
        ("national", sign_in(Client(), national_coordinator)),
        ("superuser without the second factor", unverified),
    ):
        for url in _addresses(access.django_admin()):
            response = client.get(url)
            if response.status_code == 200:
                wrong.append(f"{who} {url}")
    assert not wrong, wrong
    admin = verified(Client(), superuser.user)
    assert admin.get("/" + access.django_admin()).status_code == 200
