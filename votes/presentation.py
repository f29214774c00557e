"""A published result as members read it: plain sentences in their language, whole numbers
where they are whole, ties told with names. The stored count (votes.counting) keeps its
exact form (five-decimal strings, notes for the record); nothing here changes it.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

# The notes the count writes (votes.counting.stv, .irv), read back into plain words.
_TIE = re.compile(
    r"^tie \((?P<what>[^)]+)\) among \[(?P<tied>[\d, ]+)\] broken by "
    r"(?P<how>an earlier stage|an earlier round|lot): (?P<chosen>\d+)$"
)
_LAST_VACANCIES = "last vacancies filled by the continuing candidates (rule 52)"


def number(value: Any) -> str:
    """A count of votes as people read it: 5, not 5.00000; 2,6 in French, not 2.60000."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if amount == amount.to_integral_value():
        return formats.number_format(int(amount), use_l10n=True)
    return formats.number_format(amount.normalize(), use_l10n=True)


def names_in_a_sentence(names: list[str]) -> str:
    """Awa; Awa and Binta; Awa, Binta and Cora."""
    if len(names) <= 1:
        return "".join(names)
    return _("%(first)s and %(last)s") % {"first": ", ".join(names[:-1]), "last": names[-1]}


def elected_sentence(names: list[str]) -> str:
    if not names:
        return ""
    if len(names) == 1:
        return _("%(name)s is elected.") % {"name": names[0]}
    return _("%(names)s are elected.") % {"names": names_in_a_sentence(names)}


def note_in_words(note: str, names: dict[int, str]) -> str:
    """One note of the count in plain words; the note itself when it is not one we know."""
    if note == _LAST_VACANCIES:
        return _(
            "The last seats went to the candidates still in the count: there were no more "
            "of them than seats."
        )
    tie = _TIE.match(note)
    if tie is None:
        return note
    tied = names_in_a_sentence([names.get(int(n), n) for n in tie["tied"].split(",")])
    chosen = names.get(int(tie["chosen"]), tie["chosen"])
    how = (
        _("decided by drawing lots")
        if tie["how"] == "lot"
        else _("decided by their votes at an earlier stage")
    )
    words = {"tied": tied, "chosen": chosen, "how": how}
    if tie["what"] == "exclusion":
        return (
            _("%(tied)s had the fewest votes, the same number: %(chosen)s left the count, %(how)s.")
            % words
        )
    if tie["what"] == "largest surplus":
        return (
            _("%(tied)s had the same surplus: %(chosen)s's was passed on first, %(how)s.") % words
        )
    return (
        _("%(tied)s reached the quota with the same votes: %(chosen)s was elected first, %(how)s.")
        % words
    )


def stages(count: dict[str, Any], names: dict[int, str]) -> list[dict[str, Any]]:
    """The stages of a stored count, ready for the "how it was counted" disclosure."""
    shown = []
    for stage in count.get("stages", []):
        kind = stage["kind"]
        subject = names.get(stage.get("subject") or 0, "")
        if kind == "first":
            title = _("first preferences")
        elif kind == "surplus":
            title = _(
                "%(name)s had more votes than needed: the extra passed to the next choices"
            ) % {"name": subject}
        else:
            title = _("%(name)s left the count: their ballots passed to the next choices") % {
                "name": subject
            }
        shown.append(
            {
                "number": stage["number"],
                "kind": kind,
                "title": title,
                "transfer_value": number(stage["transfer_value"])
                if stage.get("transfer_value") is not None
                else "",
                "rows": [
                    (
                        names.get(int(c), c),
                        number(stage["changes"][c]) if c in stage["changes"] else "",
                        number(total),
                    )
                    for c, total in stage["totals"].items()
                ],
                "non_transferable": number(stage["non_transferable"]),
                "rounding": number(stage["rounding"]),
                "elected_names": names_in_a_sentence([names[c] for c in stage["elected"]]),
                "notes": [note_in_words(note, names) for note in stage.get("notes", [])],
            }
        )
    return shown


def change_header() -> str:
    """The column of votes gained or lost at a stage (not the verb "to change")."""
    return pgettext("votes moved at a stage of the count", "Change")
