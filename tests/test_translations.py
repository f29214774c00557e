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
        if entry.msgid_plural:
            # A singular form may drop the count ("un membre"), never invent a placeholder.
            allowed = set(PLACEHOLDER.findall(entry.msgid + entry.msgid_plural))
            ok = all(set(PLACEHOLDER.findall(t)) <= allowed for t in entry.msgstr_plural.values())
        else:
            ok = sorted(PLACEHOLDER.findall(entry.msgstr)) == sorted(
                PLACEHOLDER.findall(entry.msgid)
            )
        if not ok:
            wrong.append(entry.msgid)
    assert wrong == []
