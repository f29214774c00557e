"""What the dues app holds personally about a member, for the core's erasure and copy on
request (union.registry): waiver and correction reasons are free text an officer wrote
about her (a waiver may describe her hardship); the rows themselves are the union's
accounts and stay, with their amounts, dates and receipt numbers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext as _

from dues import money
from dues.models import LedgerEntry
from union.models import Member
from union.registry import DataSection


def erase_reasons(member: Member, actor: Any) -> None:
    """Blank the reasons on her ledger rows (the one change the ledger's trigger lets
    through, dues 0004). Amounts, and so every total, are untouched."""
    LedgerEntry.objects.filter(member=member).exclude(reason="").update(reason="")


def her_dues(member: Member) -> Iterable[DataSection]:
    """Her dues account: each row with what it added to what she owes, or took off it."""

    def amount(value: int, currency: str) -> str:
        return money.format_money(abs(value), currency)

    rows = tuple(
        (
            entry.booked_on,
            entry.get_kind_display(),
            amount(entry.amount, entry.currency) if entry.amount > 0 else "",
            amount(entry.amount, entry.currency) if entry.amount < 0 else "",
            entry.get_method_display(),
            entry.receipt_number,
        )
        for entry in LedgerEntry.objects.filter(member=member).order_by("booked_on", "id")
    )
    if not rows:
        return []
    columns = (_("Date"), _("Entry"), _("Owed"), _("Paid or waived"), _("Method"), _("Receipt"))
    return [DataSection(title=_("Your dues account"), columns=columns, rows=rows)]
