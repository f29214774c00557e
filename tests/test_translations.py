"""French is complete: every interface string has a French text with the same placeholders."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
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


ROOT = CATALOG.parents[3]
TEMPLATES = ROOT / "templates"
# What a page shows in the reader's language: a translated text ("{% translate %}", a whole
# "{% blocktranslate %}"), or a value (a name, a date, an amount through its filters). A
# colon (; ? !) written in the template straight after one of them is an English colon in
# a French sentence: "12/03/2026: 1 000 XOF", "Aminata: ...", "Code: ". It belongs inside a
# translated text: a sentence's own ("Ballots: {{ title }}"), or the colon alone as Django
# translates its label suffix: '{% translate ":" context "label suffix" %}', French
# "\u00a0:" (a no-break space, so the colon never starts a line). Markup and tags that
# print nothing (if, for, an element's tags) lie between them and the colon without
# changing that.
_SHOWN = "\x00"
_SKIPPED = [
    re.compile(r"\{#.*?#\}", re.S),
    re.compile(r"\{% comment %\}.*?\{% endcomment %\}", re.S),
    # Code, a formula or a script is not a sentence.
    re.compile(r"<(script|style|code|pre)\b.*?</\1>", re.S),
]
_TRANSLATED_BLOCK = re.compile(
    r"\{% blocktrans(?:late)?\b(?:[^%]|%(?!\}))*%\}.*?\{% endblocktrans(?:late)? %\}", re.S
)
_SHOWS = re.compile(r"\{% trans(?:late)? (?:[^%]|%(?!\}))*?%\}|\{\{.*?\}\}", re.S)
_PRINTS_NOTHING = re.compile(r"\{%.*?%\}|<[^>]*>", re.S)
_PUNCTUATION_AFTER_SHOWN = re.compile(_SHOWN + r"[:;?!](?=[\s\u00a0<]|$)", re.M)


def punctuation_after_shown_text(template: str) -> list[str]:
    """The lines of a template where a colon (; ? !) follows translated text or a value."""
    found = []
    for line_number, line in enumerate(_marked(template).split("\n"), start=1):
        if _PUNCTUATION_AFTER_SHOWN.search(line):
            found.append(f"line {line_number}")
    return found


def _marked(template: str) -> str:
    """The template with every shown text replaced by _SHOWN and the rest of the markup
    removed, line breaks kept so that line numbers still match."""

    def keep_lines(mark: str) -> Callable[[re.Match[str]], str]:
        return lambda match: mark + "\n" * match.group(0).count("\n")

    for pattern in _SKIPPED:
        template = pattern.sub(keep_lines(""), template)
    template = _TRANSLATED_BLOCK.sub(keep_lines(_SHOWN), template)
    template = _SHOWS.sub(
        lambda m: (
            ("" if " as " in m.group(0) and m.group(0).startswith("{%") else _SHOWN)
            + "\n" * m.group(0).count("\n")
        ),
        template,
    )
    return _PRINTS_NOTHING.sub(keep_lines(""), template)


@pytest.mark.parametrize(
    "template",
    [
        '<p>{% translate "Code" %}: {{ code }}</p>',
        '<li>{{ r.booked_on|date:"SHORT_DATE_FORMAT" }}: {{ r.amount }}</li>',
        "<li><strong>{{ option.label }}</strong>: {{ option.statement }}</li>",
        "{% blocktranslate with n=x %}Stage {{ n }}{% endblocktranslate %}:",
        '{% translate "Update" %}{% if changed %}: {{ old }}{% endif %}',
        "<a href=\"{% url 'x' %}\">{{ c.code }}</a>: {{ c.kind }}",
        "{{ question }}?",
    ],
)
def test_the_colon_check_sees_punctuation_after_shown_text(template):
    assert punctuation_after_shown_text(template) == ["line 1"]


@pytest.mark.parametrize(
    "template",
    [
        "{% blocktranslate with t=title %}Ballots: {{ t }}{% endblocktranslate %}",
        "{% blocktranslate with fp=f %}counted for {{ fp }}:{% endblocktranslate %}",
        '<a href="{{ request.scheme }}://{{ host }}">',
        "{{ request.scheme }}://{{ request.get_host }}",
        "<time>9:00</time>",
        '{% translate "Code" as label %}<p title="{{ a }}: b">x</p>',
        "{# {{ x }}: #}",
        "<code>salt = {{ salt }}; n={{ n }}</code>",
        '{{ date }}{% translate ":" context "label suffix" %} {{ amount }}',
    ],
)
def test_the_colon_check_leaves_colons_inside_translations_alone(template):
    assert punctuation_after_shown_text(template) == []


def test_no_template_writes_a_colon_after_a_translated_text_or_a_value():
    found = [
        f"{path.relative_to(ROOT)} {where}"
        for folder in (TEMPLATES, *ROOT.glob("*/templates"))
        for path in sorted(folder.rglob("*.html"))
        for where in punctuation_after_shown_text(path.read_text(encoding="utf-8"))
    ]
    assert found == []
