"""Every page is light, self-contained and discreet.

Members read these pages on cheap shared phones over slow, paid data, sometimes where
being seen on a union site is a danger: pages stay small, load nothing from other hosts
(no trackers, no CDNs), carry no inline JavaScript, and their titles (shown in tabs, history and
task switchers) name neither a member nor sex work.
"""

from __future__ import annotations

from collections.abc import Callable
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.http import HttpResponse
from django.urls import reverse

from cms import quick_exit
from cms.quick_exit import csp_source
from tests.factories import MemberFactory
from union.models import Member

MAX_BYTES = 100 * 1024
SECRET_NAME = "Zeinab Hiddenname"
BANNED_IN_TITLES = ("sex work", "sex-work", "prostitut", "escort", "travailleuse du sexe")


class Page(HTMLParser):
    """What the checks need from a page's HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.lang: str | None = None
        self.title = ""
        self.h1 = 0
        self.inline_scripts: list[str] = []  # their text
        self.inline_styles = 0
        self.skip_link = False
        self.urls: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self._in_title = False
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "html":
            self.lang = values.get("lang")
        elif tag == "title":
            self._in_title = True
        elif tag == "h1":
            self.h1 += 1
        elif tag == "script" and not values.get("src"):
            self.inline_scripts.append("")
            self._in_script = True
        elif tag == "style":
            self.inline_styles += 1
        if "style" in values:
            self.inline_styles += 1
        if tag == "a" and values.get("href") == "#main":
            self.skip_link = True
        for attribute in ("src", "href", "action", "srcset", "formaction", "poster", "data"):
            if attribute in values:
                self.urls.append((tag, attribute, values[attribute]))

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif self._in_script:
            self.inline_scripts[-1] += data


@pytest.fixture
def site(client, login, request, bamako):
    """Fetches a page as the persona who would see it. Returns (response, is_office)."""
    target = MemberFactory(branch=bamako, working_name=SECRET_NAME)
    waiting = MemberFactory(branch=bamako, working_name=f"{SECRET_NAME} Junior", applicant=True)

    def as_(persona: str | None) -> None:
        if persona:
            login(client, request.getfixturevalue(persona))

    def fetch(page: str) -> tuple[HttpResponse, bool]:
        persona, url, office, method = _PAGES[page](target, waiting)
        if persona == "unverified_secretary":
            client.force_login(request.getfixturevalue("secretary").user)
        else:
            as_(persona)
        # follow: an unknown address may first be redirected to its language prefix.
        response = client.post(url) if method == "post" else client.get(url, follow=True)
        return response, office

    return fetch


def _office(name: str, *args: object) -> str:
    # No skip for a name the urlconf lacks: a page left unchecked would pass unnoticed.
    return reverse(f"union:{name}", args=args)


Spec = Callable[[Member, Member], tuple[str | None, str, bool, str]]
# page -> (persona, url, is an office page, method)
_PAGES: dict[str, Spec] = {
    "home": lambda t, w: (None, reverse("union:home"), False, "get"),
    "join": lambda t, w: (None, reverse("union:join"), False, "get"),
    "join_thanks": lambda t, w: (None, reverse("union:join_thanks"), False, "get"),
    "login": lambda t, w: (None, reverse("union:login"), False, "get"),
    "set_password": lambda t, w: (None, reverse("union:set_password"), False, "get"),
    "profile": lambda t, w: ("member", reverse("union:profile"), False, "get"),
    "my_data": lambda t, w: ("member", reverse("union:my_data"), False, "get"),
    "my_data_csv": lambda t, w: ("member", reverse("union:my_data_csv"), False, "get"),
    "forget_me": lambda t, w: ("member", reverse("union:forget_me"), False, "get"),
    "two_factor": lambda t, w: (
        "unverified_secretary",
        reverse("union:two_factor"),
        False,
        "get",
    ),
    "office": lambda t, w: ("secretary", _office("office"), True, "get"),
    "members": lambda t, w: ("secretary", _office("members"), True, "get"),
    "member_detail": lambda t, w: (
        "secretary",
        _office("member_detail", t.public_id),
        True,
        "get",
    ),
    "member_edit": lambda t, w: ("secretary", _office("member_edit", t.public_id), True, "get"),
    "member_erase": lambda t, w: ("secretary", _office("member_erase", t.public_id), True, "get"),
    "login_code": lambda t, w: ("secretary", _office("member_code", t.public_id), True, "post"),
    "applicants": lambda t, w: ("secretary", _office("applicants"), True, "get"),
    "applicant": lambda t, w: ("secretary", _office("applicant", w.public_id), True, "get"),
    "register_member": lambda t, w: ("secretary", _office("register_member"), True, "get"),
    "roles": lambda t, w: ("secretary", _office("roles"), True, "get"),
    "import_members": lambda t, w: ("secretary", _office("import_members"), True, "get"),
    "export_members": lambda t, w: ("secretary", _office("export_members"), True, "get"),
    "not_allowed": lambda t, w: ("treasurer", _office("roles"), False, "get"),
    "not_found": lambda t, w: ("secretary", "/office/members/no-such-member/", False, "get"),
}


@pytest.mark.parametrize("page", list(_PAGES))
def test_every_page_is_light_self_contained_and_discreet(site, page, settings):
    response, office = site(page)
    assert response.status_code in (200, 403, 404)
    if not response["Content-Type"].startswith("text/html"):
        pytest.skip(f"{page} is a download, not a page")
    body = response.content
    assert len(body) < MAX_BYTES, f"{page} weighs {len(body)} bytes"

    parsed = Page()
    parsed.feed(body.decode())
    assert parsed.lang, "the <html> element names its language"
    assert parsed.skip_link, "a skip link to the main content"
    assert parsed.h1 == 1, f"{page} has {parsed.h1} h1 elements"
    # Scripts only as same-origin files, and the quick exit's inline one, which the CSP
    # allows by the hash of its text (so it works before anything else has loaded).
    assert [csp_source(text) for text in parsed.inline_scripts] == [quick_exit.CSP_SOURCE]
    assert quick_exit.CSP_SOURCE in response["Content-Security-Policy"]
    assert parsed.inline_styles == 0, "no inline styles (the CSP would block them)"

    title = parsed.title.strip()
    assert settings.SITE_NAME in title
    assert "Zeinab" not in title and "Hiddenname" not in title
    for word in BANNED_IN_TITLES:
        assert word not in title.lower()

    for tag, attribute, value in parsed.urls:
        parts = urlsplit(value)
        if parts.scheme == "data":
            # Images only (the QR code; the empty favicon that saves a request).
            assert (tag, attribute) in (("img", "src"), ("link", "href")), f"data: in <{tag}>"
            continue
        assert parts.scheme in ("", "http", "https"), f"<{tag} {attribute}={value!r}>"
        if (tag, attribute) == ("a", "href") and value == settings.CMS_QUICK_EXIT_URL:
            continue  # the one way out to another site, on purpose, and only when clicked
        if parts.netloc:  # absolute links (canonical, hreflang) stay on the site's own names
            own = parts.hostname in settings.ALLOWED_HOSTS
            assert own, f"<{tag} {attribute}> points to {value}"

    assert "Content-Security-Policy" in response.headers
    if office:
        assert "no-store" in response.headers.get("Cache-Control", "")


@pytest.mark.parametrize(
    "page", ["join", "set_password", "two_factor", "profile", "my_data", "my_data_csv", "forget_me"]
)
def test_pages_with_private_details_are_not_cached(site, page):
    response, _office_page = site(page)
    assert "no-store" in response.headers.get("Cache-Control", "")


def test_the_content_security_policy_allows_nothing_from_elsewhere(client, db):
    policy = client.get(reverse("union:home"))["Content-Security-Policy"]
    directives = {}
    for part in filter(None, (p.strip() for p in policy.split(";"))):
        name, _space, value = part.partition(" ")
        directives[name] = value
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == f"'self' {quick_exit.CSP_SOURCE}"
    assert directives["frame-ancestors"] == "'none'"
    assert "http" not in policy


def test_pages_are_not_framed_and_send_no_referrer_elsewhere(client, db):
    response = client.get(reverse("union:home"))
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] in ("no-referrer", "same-origin")
    assert response["X-Content-Type-Options"] == "nosniff"
