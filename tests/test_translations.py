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


# A number in a sentence needs the plural rules of each language (ngettext, or
# {% blocktranslate count %}): "1 lignes" is wrong French, "1 rows" wrong English. Limits
# are never 1: these placeholders ("%(max)s", a key sheet's fixed 12 "%(words)s") and any
# count after "under", "fewer than", "at least" or "more than". Any other count followed
# by a plural noun, or an English "(s)", should have been written with plural forms.
NEVER_ONE = {"max", "limit", "words"}
LIMIT = re.compile(r"\b(?:under|fewer than|at least|more than) %\(\w+\)[sd]")
COUNTED = re.compile(r"%\((\w+)\)[sd] (?:new |more |valid )?([a-z]+s)\b")
NOT_NOUNS = {"is", "was", "has", "does", "goes", "status", "this", "crisis"}


def test_counts_in_sentences_use_plural_forms(catalog):
    singular_only = [
        e.msgid
        for e in catalog
        if not e.obsolete
        and not e.msgid_plural
        and (
            "(s)" in e.msgid
            or any(
                name not in NEVER_ONE and word not in NOT_NOUNS
                for name, word in COUNTED.findall(LIMIT.sub("", e.msgid))
            )
        )
    ]
    assert singular_only == []


def test_every_plural_has_both_french_forms(catalog):
    assert "nplurals=2" in catalog.metadata["Plural-Forms"]
    incomplete = [
        e.msgid
        for e in catalog
        if e.msgid_plural and not e.obsolete and not all(e.msgstr_plural.get(i) for i in (0, 1))
    ]
    assert incomplete == []


# French puts a (no-break) space before a colon, a semicolon, a question and an
# exclamation mark: "Numéro de membre : 12", "Comment vous joindre ?". Each that ends a
# phrase in the French text must have one; quoted input formats (« 12: 3 1 2 »), times
# (9:00) and addresses (?q=) are not phrases.
COLON_WITHOUT_SPACE = re.compile(r"(?<=[^\s\u00a0\u202f])[:;?!](?=[\s\u00a0»)]|$)")
QUOTED = re.compile(r"«[^»]*»|\"[^\"]*\"")


def test_french_puts_a_space_before_colons_and_question_marks(catalog):
    wrong = []
    for entry in catalog:
        if entry.obsolete:
            continue
        texts = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for text in texts:
            if COLON_WITHOUT_SPACE.search(QUOTED.sub("", text)):
                wrong.append(text)
    assert wrong == []


TEMPLATES = CATALOG.parents[3] / "templates"
# "{% translate "Code" %}: ..." puts an English colon after the French word (and the
# same for ; ? !): the punctuation belongs inside the translated text.
COLON_AFTER_TRANSLATION = re.compile(
    r"(?:\{% translate \"[^\"]*\" %\}|\{% endblocktranslate %\}) ?[:;?!]"
)


def test_no_template_writes_a_colon_after_a_translated_text():
    found = [
        f"{path.relative_to(TEMPLATES)}: {line.strip()[:80]}"
        for path in TEMPLATES.rglob("*.html")
        for line in path.read_text(encoding="utf-8").splitlines()
        if COLON_AFTER_TRANSLATION.search(line)
    ]
    assert found == []
