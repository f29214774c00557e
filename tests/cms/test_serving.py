"""The short way to a page (cms.serving) never serves what the long way would refuse."""

from __future__ import annotations

from django.test import Client
from wagtail.models import PageViewRestriction

from cms import cache as page_cache


def test_a_page_behind_a_password_asks_for_it(client: Client, site, settings) -> None:
    settings.CMS_CACHE_SECONDS = 0
    assert client.get(site.guide.url).status_code == 200  # the route is remembered now
    PageViewRestriction.objects.create(
        page=site.guide, restriction_type=PageViewRestriction.PASSWORD, password="s3cret-words"
    )
    response = client.get(site.guide.url)
    html = response.content.decode()
    assert "password" in html.lower()
    assert site.guide.intro not in html


def test_an_unpublished_page_is_gone_at_once(client: Client, site, settings) -> None:
    settings.CMS_CACHE_SECONDS = 0
    url = site.statement.url
    assert client.get(url).status_code == 200
    site.statement.unpublish()
    assert client.get(url).status_code == 404


def test_a_renamed_page_moves(client: Client, site, settings) -> None:
    settings.CMS_CACHE_SECONDS = 0
    old_url = site.publication.url
    assert client.get(old_url).status_code == 200
    site.publication.slug = "our-lives"
    site.publication.save_revision().publish()
    assert client.get("/en/publications/our-lives/").status_code == 200
    assert client.get(old_url).status_code == 404


def test_a_page_is_built_without_a_query_once_its_address_is_known(
    client: Client, site, settings, django_assert_num_queries
) -> None:
    settings.CMS_CACHE_SECONDS = 0
    client.get(site.events.url)
    generation = page_cache.generation()
    with django_assert_num_queries(0):
        assert client.get(site.events.url).status_code == 200
    assert page_cache.generation() == generation


def test_each_request_gets_its_own_copy_of_the_page(client: Client, site, settings) -> None:
    settings.CMS_CACHE_SECONDS = 0
    first = client.get(site.campaign.url).context["page"]
    first.title = "Changed by one request"
    second = client.get(site.campaign.url)
    assert second.context["page"] is not first
    assert "Changed by one request" not in second.content.decode()
    assert site.campaign.title in second.content.decode()


def test_a_published_edit_shows_at_once_without_the_page_cache(
    client: Client, site, settings
) -> None:
    settings.CMS_CACHE_SECONDS = 0
    assert site.campaign.title in client.get(site.campaign.url).content.decode()
    assert site.campaign.title in client.get(site.home.url).content.decode()
    site.campaign.title = "Decriminalise now, everywhere"
    site.campaign.save_revision().publish()
    assert "Decriminalise now, everywhere" in client.get(site.campaign.url).content.decode()
    # The home page's lists are rebuilt too.
    assert "Decriminalise now, everywhere" in client.get(site.home.url).content.decode()
