"""French is complete: every interface string has a French text with the same placeholders."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
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


# What `make messages` extracts: the code and templates as they are now.
SOURCES = ("union", "dues", "votes", "crisis", "cms", "templates", "locale", "manage.py")


def test_every_string_in_the_code_is_in_the_french_catalogue(tmp_path):
    """A string added to the code without refreshing the catalogue shows in English on a
    French page. Extract the strings of a copy of the tree and compare."""
    if shutil.which("xgettext") is None:
        pytest.fail("gettext is not installed (make test installs it)")
    root = CATALOG.parents[3]
    for name in SOURCES:
        source = root / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name, ignore=shutil.ignore_patterns("*.mo"))
        elif source.exists():
            shutil.copy(source, tmp_path / name)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "fr", "--no-location", "-v", "0"],
        cwd=tmp_path,
        check=True,
        env={**os.environ, "SOLIDAIRE_VAR_DIR": str(tmp_path / "var")},
    )
    extracted = polib.pofile(str(tmp_path / "locale" / "fr" / "LC_MESSAGES" / "django.po"))
    missing = [e.msgid for e in extracted if not e.obsolete and not e.translated()]
    assert missing == []
