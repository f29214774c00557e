"""Who may open which address of the public site: the access matrix of cms/ and of the
site-wide addresses (tests/access.py). The Wagtail admin is under its own rule
(tests/union/test_admin_rules.py).

The public site is the same for everyone, signed in or not, except a page restricted to
signed-in people (anonymous visitors are sent to the union's sign-in) and a password
restriction's form. Personas: tests/conftest.py's and the BKO editor (tests/cms/conftest.py).
"""

from __future__ import annotations

import io

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from wagtail.documents import get_document_model
from wagtail.models import Collection, PageViewRestriction

from tests import access
from tests.cms.builders import make_image

pytestmark = pytest.mark.django_db

MATRIX = """
url                                     anon   member  editor  secretary  other_sec
union:home                              ok     ok      ok      ok         ok
set_language                            ok     ok      ok      ok         ok
health                                  ok     ok      ok      ok         ok
cms_join                                ok     ok      ok      ok         ok
cms_news_atom                           ok     ok      ok      ok         ok
cms_news_rss                            ok     ok      ok      ok         ok
cms_quick_exit                          ok     ok      ok      ok         ok
cms_rendition                           ok     ok      ok      ok         ok
cms_search                              ok     ok      ok      ok         ok
cms_sitemap                             ok     ok      ok      ok         ok
wagtail_serve                           login  ok      ok      ok         ok
wagtailcore_authenticate_with_password  ok     ok      ok      ok         ok
wagtaildocs_serve                       ok     ok      ok      ok         ok
wagtaildocs_authenticate_with_password  404    404     404     404        404
wagtailcore_login                       login  login   login   login      login
"""
# wagtail_serve is checked on a page restricted to signed-in people (public pages are
# checked for every page type in tests/cms/test_serving.py); documents have no password
# restrictions here, so that form answers 404 to all. wagtailcore_login only forwards to
# the union's sign-in, for everyone (which then sends those already signed in on).
ADDRESSES = access.row_names(MATRIX)

PERSONAS = {
    "anon": None,
    "member": "member",
    "editor": "editor",
    "secretary": "secretary",
    "other_sec": "other_secretary",
}


@pytest.fixture
def everyone(request) -> dict:
    return {
        persona: None if fixture is None else request.getfixturevalue(fixture)
        for persona, fixture in PERSONAS.items()
    }


def _address(name: str, site) -> tuple[str, str]:
    """The address to check and the method."""
    if name == "set_language":
        return reverse("set_language"), "post"
    if name == "cms_rendition":
        return make_image().get_rendition("width-200").url, "get"
    if name == "wagtail_serve":
        PageViewRestriction.objects.create(page=site.campaign, restriction_type="login")
        return site.campaign.url, "get"
    if name == "wagtailcore_authenticate_with_password":
        restriction = PageViewRestriction.objects.create(
            page=site.campaign, restriction_type="password", password="s3cret-enough"
        )
        args = [restriction.pk, site.campaign.pk]
        return reverse(name, args=args), "get"
    if name == "wagtaildocs_serve":
        document = get_document_model().objects.create(
            title="Know your rights",
            file=ContentFile(io.BytesIO(b"%PDF-1.4\n%%EOF\n").read(), name="rights.pdf"),
            collection=Collection.get_first_root_node(),
        )
        return reverse(name, args=[document.pk, document.filename]), "get"
    if name == "wagtailcore_login":
        return reverse(name) + "?next=/en/", "get"
    if name == "wagtaildocs_authenticate_with_password":
        return reverse(name, args=[999_999]), "get"
    return reverse(name), "get"


@pytest.mark.parametrize(("url_name", "expected"), access.rows(MATRIX, PERSONAS))
def test_access(site, everyone, url_name, expected):
    url, method = _address(url_name, site)
    data = {"language": "fr", "next": "/fr/"} if url_name == "set_language" else None
    mismatches = access.check_row(everyone, expected, url=url, method=method, data=data)
    assert not mismatches, mismatches


@pytest.mark.parametrize(("url_name", "persona"), access.first_allowed(MATRIX, PERSONAS))
def test_bad_input_on_any_public_screen_gets_an_answer_not_a_crash(
    client, login, request, site, url_name, persona
):
    fixture = PERSONAS[persona]
    if fixture is not None:
        login(client, request.getfixturevalue(fixture))
    url, _method = _address(url_name, site)
    access.send_garbage(client, url, ("language", "next", "q", "password"))
