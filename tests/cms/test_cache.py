"""Public pages come from the cache for anonymous visitors, and publishing empties it."""

from __future__ import annotations

from django.test import Client

from cms import cache as page_cache
from cms.models import NewsPage
from tests.cms.builders import add_page

HEADER = page_cache.HEADER


def test_the_second_visit_is_served_from_the_cache(
    client: Client, site, django_assert_num_queries
) -> None:
    first = client.get(site.campaign.url)
    assert first[HEADER] == "miss"
    with django_assert_num_queries(0):
        second = client.get(site.campaign.url)
    assert second[HEADER] == "hit"
    assert second.content == first.content
    assert second["Content-Security-Policy"] == first["Content-Security-Policy"]


def test_publishing_anything_empties_the_cache(client: Client, site) -> None:
    assert client.get(site.news.url)[HEADER] == "miss"
    assert client.get(site.news.url)[HEADER] == "hit"
    add_page(site.news, NewsPage(title="Fresh news", slug="fresh", intro=""))
    response = client.get(site.news.url)
    assert response[HEADER] == "miss"
    assert "Fresh news" in response.content.decode()


def test_unpublishing_empties_the_cache(client: Client, site) -> None:
    client.get(site.events.url)
    site.march.unpublish()
    response = client.get(site.events.url)
    assert response[HEADER] == "miss"
    assert site.march.title not in response.content.decode()


def test_signed_in_members_get_their_own_page(client: Client, site, member, login) -> None:
    client.get(site.home.url)
    login(client, member)
    response = client.get(site.home.url)
    assert HEADER not in response
    assert "My account" in response.content.decode()


def test_only_plain_addresses_and_page_numbers_are_cached(client: Client, site) -> None:
    client.get(site.news.url, {"page": "1"})
    assert client.get(site.news.url, {"page": "1"})[HEADER] == "hit"
    client.get(site.news.url, {"utm_source": "x"})
    assert HEADER not in client.get(site.news.url, {"utm_source": "x"})


def test_cached_pages_hold_no_csrf_token_and_set_no_cookie(client: Client, site) -> None:
    for _ in range(2):
        response = client.get(site.home.url)
        assert "csrfmiddlewaretoken" not in response.content.decode()
        assert not response.cookies


def test_the_root_is_cached_per_language(client: Client, site) -> None:
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en")
    french = client.get("/", HTTP_ACCEPT_LANGUAGE="fr")
    assert french[HEADER] == "miss"
    assert english.content != french.content
    assert client.get("/", HTTP_ACCEPT_LANGUAGE="fr").content == french.content
