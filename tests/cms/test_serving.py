"""The short way to a page (cms.serving) never serves what the long way would refuse."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory
from django.utils import translation
from wagtail.models import Page, PageViewRestriction, Site

from cms import cache as page_cache
from cms import serving


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


@pytest.mark.parametrize("language", ["en", "fr", "km"])
def test_finding_a_page_by_its_address_agrees_with_wagtails_walk(
    rf: RequestFactory, site, language: str
) -> None:
    """For every page of the site, in a language with its own tree, in one without (Khmer
    falls back to English) and under an unpublished section: the same page or none."""
    site.campaigns.unpublish()  # its pages are still served; itself is not
    wagtail_site = Site.objects.get(is_default_site=True)
    paths = {"", "nowhere/", "campaigns/nowhere/", "campagnes/"}
    for page in Page.objects.filter(depth__gte=2):
        home_path = page.get_ancestors(inclusive=True).get(depth=2).url_path
        paths.add(page.url_path.removeprefix(home_path))
    assert len(paths) > 20
    with translation.override(language):
        for path in sorted(paths):
            request = rf.get(f"/{language}/{path}")
            walked = Page.route_for_request(request, path)
            expected = (walked[0].pk, walked[0].specific_class._meta.label_lower) if walked else ""
            assert serving._route_by_address(wagtail_site, path) == expected, path
