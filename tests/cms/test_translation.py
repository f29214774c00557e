"""One tree per language: French pages at French addresses, a switcher between them, and
fallbacks where nothing is translated yet."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from cms.models import NewsPage
from tests.cms.builders import add_page


def test_french_pages_live_at_french_addresses(client: Client, site) -> None:
    response = client.get("/fr/campagnes/decriminaliser-le-travail-du-sexe/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="fr"' in html
    assert "Décriminaliser le travail du sexe" in html
    assert "Abroger les lois qui criminalisent le travail du sexe." in html
    assert site.campaign_fr.url == "/fr/campagnes/decriminaliser-le-travail-du-sexe/"


def test_the_switcher_links_each_page_to_its_own_translation(client: Client, site) -> None:
    html = client.get(site.campaign.url).content.decode()
    switcher = re.search(r'<nav class="lang".*?</nav>', html, re.S).group(0)
    assert f'href="{site.campaign_fr.url}" lang="fr"' in switcher
    assert 'href="/en/campaigns/decriminalise-sex-work/" lang="en"' in switcher
    assert 'aria-current="true">English' in switcher
    # Languages with no translation lead to their home page, which falls back to the default.
    assert 'href="/km/" lang="km"' in switcher
    # Search engines learn the translations.
    assert f'hreflang="fr" href="http://testserver{site.campaign_fr.url}"' in html


def test_the_search_address_is_translated_too(client: Client, site) -> None:
    with translation.override("fr"):
        assert reverse("cms_search") == "/fr/recherche/"
    response = client.get("/fr/recherche/", {"q": "police"})
    assert response.status_code == 200
    assert "La police doit cesser" in response.content.decode()
    assert "Police must stop" not in response.content.decode()


def test_an_untranslated_page_is_listed_in_french_in_its_own_language(client: Client, site) -> None:
    add_page(
        site.news,
        NewsPage(title="Only in English", slug="only-english", intro="Not translated yet."),
    )
    html = client.get(site.news_fr.url).content.decode()
    assert "Only in English" in html
    assert '<li class="card" lang="en">' in html
    assert "pas encore traduit" in html or "not translated yet" in html
    # ... and the French translation, where there is one, is listed instead of the English.
    assert "La police doit cesser" in html
    assert "Police must stop using condoms" not in html


def test_a_language_with_no_pages_yet_shows_the_default_one(client: Client, site) -> None:
    response = client.get("/km/")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="km"' in html
    assert '<article lang="en" dir="ltr">' in html
    assert "A union run by sex workers" in html


def test_the_root_follows_the_visitors_language(client: Client, site) -> None:
    assert reverse("union:home") == "/"
    assert "Un syndicat dirigé" in client.get("/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    client.cookies["language"] = "en"
    assert "A union run by sex workers" in client.get("/").content.decode()


def test_the_join_button_hands_the_language_to_the_form(client: Client, site) -> None:
    response = client.get("/fr/_join/")
    assert response.status_code == 302
    assert response["Location"] == reverse("union:join")
    assert response.cookies["language"].value == "fr"


@pytest.mark.parametrize("bidi", [["km"]])
def test_right_to_left_languages_turn_the_page_around(client: Client, site, settings, bidi) -> None:
    settings.LANGUAGES_BIDI = bidi
    html = client.get("/km/").content.decode()
    assert '<html lang="km" dir="rtl">' in html
    # English content inside keeps its own direction.
    assert '<article lang="en" dir="ltr">' in html


def test_the_address_language_wins_over_a_members_preference(
    client: Client, site, member, login
) -> None:
    member.preferred_language = "fr"
    member.save(update_fields=["preferred_language"])
    login(client, member)
    response = client.get(site.campaign.url)
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en"' in html
    assert "Decriminalise sex work" in html
    # Without a language in the address, the member's own language applies.
    assert "Un syndicat dirigé" in client.get("/").content.decode()
