"""French is complete: every interface string has a French text with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import polib
import pytest

CATALOG = Path(__file__).resolve().parent.parent / "locale" / "fr" / "LC_MESSAGES" / "django.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w*)\}")


@pytest.fixture(scope="module")
def catalog() -> polib.POFile:
    return polib.pofile(str(CATALOG))


def test_every_string_has_a_french_translation(catalog):
    missing = [e.msgid for e in catalog if not e.obsolete and not e.translated()]
    assert missing == []


def test_no_translation_is_left_fuzzy(catalog):
    assert [e.msgid for e in catalog if "fuzzy" in e.flags] == []


def test_french_texts_keep_the_placeholders_of_the_english(catalog):
    wrong = []
    for entry in catalog:
        if entry.obsolete:
            continue
        wanted = sorted(PLACEHOLDER.findall(entry.msgid))
        texts = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        for text in texts:
            if sorted(PLACEHOLDER.findall(text)) != wanted and not entry.msgid_plural:
                wrong.append(entry.msgid)
            elif entry.msgid_plural and not set(PLACEHOLDER.findall(text)) <= set(
                PLACEHOLDER.findall(entry.msgid + entry.msgid_plural)
            ):
                wrong.append(entry.msgid)
    assert wrong == []
