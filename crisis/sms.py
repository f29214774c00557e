"""Reading a responder's SMS reply: a word and a call-out's code, typed in a hurry.

`OK 4821`, `ok4821`, `"4821 ok"`, `#4821 OK.`, `1 4821` all mean the same. Case, spaces,
quotes, `#` and punctuation do not matter; the code may come before or after the word;
1 to 4 are shortcuts; each branch adds its own words (French, Swahili, Khmer...).
Digits in other scripts (Khmer ១២៣៤) are read as digits. Accents on Latin letters are
ignored (arrivée = arrivee). Pure functions: nothing here touches the database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    OK = "ok"
    NO = "no"
    ARRIVED = "arrived"
    DONE = "done"
    HELP = "help"
    STOP = "stop"


# The words every branch understands, in the interface's languages (English, French: the
# texts tell responders to use them). A branch's own words come on top (CrisisSettings).
BUILTIN: dict[Action, tuple[str, ...]] = {
    Action.OK: ("ok", "okay", "yes", "y", "going", "accept", "on my way", "oui"),
    Action.NO: ("no", "n", "cant", "cannot", "cant go", "decline", "non"),
    Action.ARRIVED: ("arrived", "arrive", "here", "on scene", "arrivee", "sur place"),
    Action.DONE: ("done", "finished", "resolved", "fini", "termine"),
    Action.HELP: ("help", "info", "aide"),
    Action.STOP: ("stop", "unsubscribe"),
}
SHORTCUTS = {"1": Action.OK, "2": Action.NO, "3": Action.ARRIVED, "4": Action.DONE}
# The actions a branch may add words for (STOP stays the carriers' word).
CONFIGURABLE = (Action.OK, Action.NO, Action.ARRIVED, Action.DONE, Action.HELP)
CODE = re.compile(r"^[0-9]{4,6}$")
# Quotes of every kind, and the hash: written as escapes, since several look alike.
_QUOTES = frozenset(
    "\"'`#\u00b4\u2018\u2019\u201a\u201b\u201c\u201d\u201e\u201f\u00ab\u00bb\u2039\u203a"
)
_SPLIT_DIGITS = re.compile(r"(?<=[0-9])(?=[^0-9\s])|(?<=[^0-9\s])(?=[0-9])")
_ACTION_NAMES = frozenset(a.value for a in Action)
MAX_LENGTH = 160  # a reply longer than one SMS is not a reply to an alert


@dataclass(frozen=True)
class Parsed:
    action: Action | None
    code: str | None = None


def _is_latin(ch: str) -> bool:
    return ch.isascii() or "LATIN" in unicodedata.name(ch, "")


def fold(text: str) -> str:
    """Lower case, digits as ASCII, no accents on Latin letters, no quotes or
    punctuation, single spaces."""
    text = unicodedata.normalize("NFKD", text.casefold())
    out: list[str] = []
    for ch in text:
        if unicodedata.combining(ch):
            if out and _is_latin(out[-1]):
                continue  # é -> e; a Khmer vowel sign stays
            out.append(ch)
        elif ch in _QUOTES:
            continue  # can't -> cant
        elif ch.isdigit() and not ch.isascii():
            out.append(str(unicodedata.digit(ch, 0)))
        elif unicodedata.category(ch)[0] in "PSZC":
            out.append(" ")
        else:
            out.append(ch)
    joined = unicodedata.normalize("NFC", "".join(out))
    return " ".join(_SPLIT_DIGITS.sub(" ", joined).split())


def vocabulary(extra: Mapping[str, Iterable[str]] | None = None) -> dict[str, Action]:
    """Folded word or phrase -> action: the built-in words, then the branch's own."""
    table: dict[str, Action] = {}
    for action, words in BUILTIN.items():
        for word in words:
            table[fold(word)] = action
    for name, own in (extra or {}).items():
        if name not in _ACTION_NAMES:
            continue
        for word in own:
            folded = fold(str(word))
            if folded and folded not in table:
                table[folded] = Action(name)
    return table


def parse(text: str, extra: Mapping[str, Iterable[str]] | None = None) -> Parsed:
    """The action and code in a reply. Parsed(None) when it cannot be read for sure."""
    if len(text) > MAX_LENGTH:
        return Parsed(None)
    if text.strip() == "?":
        return Parsed(Action.HELP)
    words = fold(text).split()
    codes = {w for w in words if CODE.match(w)}
    if len(codes) > 1:
        return Parsed(None)  # two codes: which one?
    code = next(iter(codes), None)
    rest = [w for w in words if not CODE.match(w)]
    if len(rest) == 1 and rest[0] in SHORTCUTS:
        return Parsed(SHORTCUTS[rest[0]], code)
    table = vocabulary(extra)
    action = table.get(" ".join(rest))
    if action is None and len(rest) > 1:
        # "OK 4821 on my way": the first word decides, if it is a word we know and no
        # other word means something else ("yes no" is not read at all).
        action = table.get(rest[0])
        others = {table.get(w) or SHORTCUTS.get(w) for w in rest[1:]} - {None, action}
        if others:
            return Parsed(None, code)
    if action is None:
        return Parsed(None, code)
    return Parsed(action, code)


def clean_keywords(raw: Mapping[str, str]) -> dict[str, list[str]]:
    """A branch's words from the settings form ({"ok": "oui, d'accord", ...}) checked:
    no digits, no word meaning two things, none taking a built-in word of another action.
    Raises ValueError naming the word."""
    builtin = vocabulary()
    seen: dict[str, str] = {}
    out: dict[str, list[str]] = {}
    for action in CONFIGURABLE:
        words = []
        for word in (raw.get(action.value) or "").split(","):
            folded = fold(word)
            if not folded:
                continue
            if any(ch.isdigit() for ch in folded) or len(folded) > 30:
                raise ValueError(word.strip())
            if builtin.get(folded, action) != action or seen.get(folded, action) != action:
                raise ValueError(word.strip())
            seen[folded] = action
            if word.strip() not in words:
                words.append(word.strip())
        if words:
            out[action.value] = words
    return out
