"""Every language the switchers offer works, and a page shown in another language says so
in the visitor's own language (issue 14, item 1)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client

ENGLISH_NOTICE = "This page is not written in your language yet."


def _switcher_links(html: str) -> list[tuple[str, str]]:
    switcher = re.search(r'<nav class="lang".*?</nav>', html, re.S)
    assert switcher is not None
    return re.findall(r'<a href="([^"]+)" lang="([\w-]+)"', switcher.group(0))


@pytest.mark.parametrize("start", ["home", "campaign", "statement_fr"])
def test_every_language_in_the_public_switcher_answers_in_that_language(
    client: Client, site, start: str
) -> None:
    links = _switcher_links(client.get(getattr(site, start).url).content.decode())
    assert {code for _url, code in links} == {code for code, _name in settings.LANGUAGES}
    for url, code in links:
        response = client.get(url)
        assert response.status_code == 200, f"{url} ({code}) answers {response.status_code}"
        assert f'<html lang="{code}"' in response.content.decode()


def test_the_isizulu_home_page_is_served_at_its_own_address(client: Client, site) -> None:
    response = client.get("/zu/")
    assert response.status_code == 200
    assert '<html lang="zu"' in response.content.decode()


@pytest.mark.parametrize("code", ["km", "zu"])
def test_a_fallback_page_is_announced_in_the_visitors_language(
    client: Client, site, code: str
) -> None:
    html = client.get(f"/{code}/").content.decode()
    notice = re.search(r'<p class="notice" lang="(\w+)">(.*?)</p>', html, re.S)
    assert notice is not None
    assert notice.group(1) == code
    assert ENGLISH_NOTICE not in notice.group(2)
    assert notice.group(2).strip()


def test_each_language_is_named_in_itself_in_the_public_switcher(client: Client, site) -> None:
    html = client.get(site.home_fr.url).content.decode()
    switcher = re.search(r'<nav class="lang".*?</nav>', html, re.S).group(0)
    for code, name in settings.LANGUAGES:
        assert f'lang="{code}" hreflang="{code}">{name}</a>' in switcher or (
            f'lang="{code}" hreflang="{code}" aria-current="true">{name}</a>' in switcher
        )
