"""After signing in or recording something, a ?next= address sends the officer on, but only
within this site: a crafted link must not bounce a signed-in officer to someone else's page."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from union.http import safe_next

DEFAULT = "/office/"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/steal",
        "//evil.example/steal",
        "javascript:alert(1)",
        "/\\evil.example/steal",
        "\\\\evil.example\\steal",
        "http://testserver/office/members/",  # our own host, but down to plain HTTP
    ],
)
def test_a_next_address_off_the_site_is_refused(target):
    request = RequestFactory().get("/", {"next": target}, secure=True)
    assert safe_next(request, DEFAULT) == DEFAULT


def test_a_posted_next_address_off_the_site_is_refused():
    request = RequestFactory().post("/", {"next": "//evil.example/steal"})
    assert safe_next(request, DEFAULT) == DEFAULT


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_local_next_address_is_kept(method):
    request = getattr(RequestFactory(), method)("/", {"next": "/office/members/?page=2"})
    assert safe_next(request, DEFAULT) == "/office/members/?page=2"


def test_without_a_next_address_the_default_is_used():
    assert safe_next(RequestFactory().get("/"), DEFAULT) == DEFAULT
