"""The access policy written out: matrices of screens by personas, and the project's addresses.

A matrix is a header of persona columns and one row per screen; a cell says what the
persona gets:

    login  sent to the sign-in page (not signed in)
    403    signed in, but no role gives this right (or a webhook without its secret)
    404    the right exists, but not for this object (another branch, someone else's)
    405    the address takes another method (a form that only posts)
    2fa    sent to the second factor (an office bearer signing in again passes through it)
    ok     allowed: 200, or a redirect that is not to sign-in or the second factor
    told   refused by the service with a message on the page it redirects to; nothing changes

Every address the project answers must have a row in one of the matrices
(tests/union/test_access_matrix.py::test_every_address_of_the_project_has_a_row): a new
screen without one fails the suite. The Wagtail admin and the Django admin are covered by
a rule each, tested on every one of their addresses (tests/union/test_admin_rules.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse

from tests.conftest import sign_in
from union.models import Member

# The two admins, each under one rule (see tests/union/test_admin_rules.py).
WAGTAIL_ADMIN = "cms-admin/"


def django_admin() -> str:
    return str(settings.ADMIN_URL)


@dataclass(frozen=True)
class Address:
    name: str | None  # "namespace:name", or None for an unnamed pattern
    route: str  # the full route, prefixes joined

    @property
    def key(self) -> str:
        return self.name or self.route


def addresses(patterns: list[Any] | None = None) -> list[Address]:
    """Every pattern the project answers, walking included urlconfs with their namespaces."""
    if patterns is None:
        from django.urls import get_resolver

        patterns = list(get_resolver().url_patterns)
    return list(_walk(patterns, "", ""))


def _walk(patterns: list[Any], prefix: str, namespace: str) -> Iterator[Address]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}{pattern.name}" if pattern.name else None
            yield Address(name, prefix + str(pattern.pattern))


def in_an_admin(address: Address) -> bool:
    return address.route.startswith((WAGTAIL_ADMIN, django_admin()))


def row_names(matrix: str) -> list[str]:
    _header, *rows = (line.split() for line in matrix.strip().splitlines())
    return [row[0] for row in rows]


def cells(matrix: str, personas: Mapping[str, str | None]) -> list[tuple[str, str, str]]:
    header, *rows = (line.split() for line in matrix.strip().splitlines())
    assert header[1:] == list(personas), "matrix columns and personas differ"
    return [
        (row[0], col, cell) for row in rows for col, cell in zip(header[1:], row[1:], strict=True)
    ]


def rows(matrix: str, personas: Mapping[str, str | None]) -> list[tuple[str, dict[str, str]]]:
    """One (screen, {persona: expected}) per row: one test per screen, every persona in it."""
    header, *lines = (line.split() for line in matrix.strip().splitlines())
    assert header[1:] == list(personas), "matrix columns and personas differ"
    return [(row[0], dict(zip(header[1:], row[1:], strict=True))) for row in lines]


def outcome(response: Any) -> str:
    """What a persona got, in the matrix's words."""
    if response.status_code in (200, 302, 303):
        if response.status_code == 200:
            return "ok"
        target = urlsplit(response["Location"]).path
        if target == reverse("union:login"):
            return "login"
        if target == reverse("union:two_factor"):
            return "2fa"
        return "ok"
    return str(response.status_code)


def assert_access(response: Any, expected: str) -> None:
    got = outcome(response)
    assert got == expected, f"expected {expected}, got {got} ({response.status_code})"


def fetch(client: Client, method: str, url: str, data: Any = None) -> Any:
    """The response, following a redirect to a language prefix once: the public site's
    catch-all answers an unknown address with /en/... which then answers 404."""
    send = client.post if method == "post" else client.get
    response = send(url, data or {})
    if (
        response.status_code == 302
        and response["Location"].startswith(("/en/", "/fr/"))
        and not url.startswith(("/en/", "/fr/"))
    ):
        followed = client.get(response["Location"])
        if followed.status_code == 404:
            return followed
    return response


def check_row(
    personas: Mapping[str, Member | None],
    expected: Mapping[str, str],
    *,
    url: str | Callable[[str], str],
    method: str = "get",
    data: Any = None,
    unchanged: Callable[[], Any] | None = None,
) -> list[str]:
    """Every persona requests the screen, each in a transaction that is rolled back, so an
    allowed change does not alter what the next persona meets. Returns the mismatches.

    `unchanged` returns a snapshot of what a refused request must leave as it was; it is
    compared before and after each refusal."""
    mismatches = []
    for persona, member in personas.items():
        want = expected[persona]
        with transaction.atomic():
            client = Client()
            if member is not None:
                sign_in(client, member)
            before = unchanged() if unchanged else None
            address = url(persona) if callable(url) else url
            response = fetch(client, method, address, data)
            got = outcome(response)
            if want == "told" and got == "ok" and response.status_code == 302:
                got = "told"
            if got != want:
                mismatches.append(f"{persona}: expected {want}, got {got}")
            elif want != "ok" and unchanged and unchanged() != before:
                mismatches.append(f"{persona}: refused ({got}) but something changed")
            transaction.set_rollback(True)
    return mismatches


# The modules whose matrices make up the policy; each lists the addresses its rows cover
# as ADDRESSES ("namespace:name"). A new app's screens get a matrix in one of them, or a
# module of their own added here.
MATRIX_MODULES = (
    "tests.union.test_access_matrix",
    "tests.dues.test_screens",
    "tests.votes.test_access",
    "tests.cms.test_access",
)


def covered() -> set[str]:
    import importlib

    names: set[str] = set()
    for module in MATRIX_MODULES:
        names.update(importlib.import_module(module).ADDRESSES)
    return names


def without_a_row(found: list[Address], rows: set[str]) -> list[str]:
    """The addresses outside the two admins that no matrix row covers."""
    return sorted(a.key for a in found if not in_an_admin(a) and a.key not in rows)


# --- bad input ------------------------------------------------------------------------------

# What a careless or hostile client sends in every field a screen's form shows: too long,
# negative, huge, markup and quotes, right-to-left and emoji, blank.
GARBAGE = [
    "x" * 5000,
    "-1",
    "9" * 40,
    "<script>alert(1)</script>'\";--",
    "\u202e\U0001f600 \u0663\u0664",
    "",
]
_FIELD = re.compile(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"')
# Query parameters every list screen may read (paging, sorting, filtering).
LIST_PARAMETERS = ("cursor", "page", "sort", "q", "status", "month", "branch")


def first_allowed(matrix: str, personas: Mapping[str, str | None]) -> list[tuple[str, str]]:
    """Each screen of the matrix with the first persona it lets in ("ok"); screens that let
    nobody in are left out."""
    chosen: dict[str, str] = {}
    for url_name, persona, cell in cells(matrix, personas):
        if cell == "ok":
            chosen.setdefault(url_name, persona)
    return sorted(chosen.items())


def send_garbage(client: Client, url: str, fields: Iterable[str] = ()) -> None:
    """Each kind of GARBAGE in every field of the screen's form (found in its page) and in
    `fields`, sent as a query and as a POST. The test client raises what the view raises,
    so a crash fails the test where production would answer 500; a 5xx answer fails too."""
    page = client.get(url)
    names = set(fields) | set(LIST_PARAMETERS)
    if page.status_code == 200 and not page.streaming:  # a file has no form
        names |= set(_FIELD.findall(page.content.decode(errors="replace")))
    names.discard("csrfmiddlewaretoken")
    for value in GARBAGE:
        data = dict.fromkeys(names, value)
        for response in (client.get(url, data), client.post(url, data)):
            assert response.status_code < 500, (url, value[:20], response.status_code)
