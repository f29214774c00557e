"""The language select of the members' and office screens: every language it offers
switches the screen to that language, each is named in itself, and a language the
interface is not translated into yet says so in that language (issue 14, items 1 and 9)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation


def _options(html: str) -> list[tuple[str, str]]:
    select = re.search(r'<select id="lang-select".*?</select>', html, re.S)
    assert select is not None
    return re.findall(
        r'<option value="(\w+)" lang="\w+"(?: selected)?>([^<]+)</option>', select.group(0)
    )


@pytest.fixture(autouse=True)
def _english_afterwards() -> Iterator[None]:
    yield
    translation.activate(settings.LANGUAGE_CODE)  # requests leave theirs active


def test_every_language_offered_by_the_select_switches_the_screen(client: Client, db) -> None:
    offered = _options(client.get("/account/login/").content.decode())
    assert [code for code, _name in offered] == [code for code, _name in settings.LANGUAGES]
    for code, _name in offered:
        client.post("/i18n/setlang/", {"language": code, "next": "/account/login/"})
        html = client.get("/account/login/").content.decode()
        assert f'<html lang="{code}"' in html, f"choosing {code} does not switch the screen"


def test_each_language_is_named_in_itself_even_on_a_french_screen(client: Client, french) -> None:
    offered = dict(_options(french.get("/account/login/").content.decode()))
    assert offered == dict(settings.LANGUAGES)
    assert "Anglais" not in offered.values()


def test_a_screen_not_translated_yet_says_so_in_the_visitors_language(client: Client, db) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zu"
    html = client.get("/account/login/").content.decode()
    notice = re.search(r'<p class="notice" lang="zu">(.*?)</p>', html, re.S)
    assert notice is not None
    assert "not translated" not in notice.group(1)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    assert 'class="notice" lang="fr"' not in client.get("/account/login/").content.decode()
