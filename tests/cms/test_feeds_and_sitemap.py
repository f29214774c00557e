"""sitemap.xml and the news feeds are well-formed XML and list what they should."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from django.test import Client

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"


def test_the_atom_feed_lists_news_in_its_language(client: Client, site) -> None:
    response = client.get("/fr/feeds/news.atom")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)  # noqa: S314 - our own response
    assert feed.tag == f"{ATOM}feed"
    assert feed.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr"
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [site.statement_fr.title]
    link = entries[0].find(f"{ATOM}link").get("href")
    assert link == f"http://testserver{site.statement_fr.url}"
    assert entries[0].findtext(f"{ATOM}summary") == site.statement_fr.intro


def test_the_rss_feed_is_valid_rss(client: Client, site) -> None:
    response = client.get("/en/feeds/news.rss")
    assert response.status_code == 200
    rss = ET.fromstring(response.content)  # noqa: S314 - our own response
    assert rss.tag == "rss" and rss.get("version") == "2.0"
    items = rss.findall("channel/item")
    assert [item.findtext("title") for item in items] == [site.statement.title]
    assert items[0].findtext("category") == "Statement"
    assert rss.findtext("channel/language") == "en"


def test_the_sitemap_lists_every_public_page_with_its_translations(client: Client, site) -> None:
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    urlset = ET.fromstring(response.content)  # noqa: S314 - our own response
    urls = {u.findtext(f"{SITEMAP}loc"): u for u in urlset.findall(f"{SITEMAP}url")}
    assert "http://testserver/en/" in urls
    assert "http://testserver/fr/" in urls
    assert f"http://testserver{site.campaign_fr.url}" in urls
    campaign = urls[f"http://testserver{site.campaign.url}"]
    alternates = {
        link.get("hreflang"): link.get("href") for link in campaign.findall(f"{XHTML}link")
    }
    assert alternates == {
        "en": f"http://testserver{site.campaign.url}",
        "fr": f"http://testserver{site.campaign_fr.url}",
    }
    assert all(u.findtext(f"{SITEMAP}lastmod") for u in urls.values())
    # A draft is not listed.
    site.guide.unpublish()
    urlset = ET.fromstring(client.get("/sitemap.xml").content)  # noqa: S314 - our own response
    locations = {u.findtext(f"{SITEMAP}loc") for u in urlset.findall(f"{SITEMAP}url")}
    assert (
        f"http://testserver{site.guide.url or '/en/know-your-rights/if-you-are-arrested/'}"
        not in locations
    )
