"""Office lists of the ledger (django-tables2). Amounts are shown in the branch currency."""

from __future__ import annotations

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from dues.models import LedgerEntry
from dues.templatetags.dues import standing_label
from union.models import Member


class LedgerTable(tables.Table):
    label = _("Ledger")  # names the scrolling region around the table
    booked_on = tables.DateColumn(verbose_name=_("Date"), short=True)
    member = tables.Column(
        verbose_name=_("Member"),
        accessor="member__working_name",
        linkify=("dues:member_account", {"public_id": tables.A("member__public_id")}),
    )
    number = tables.Column(verbose_name=_("Number"), accessor="member__number")
    kind = tables.Column(verbose_name=_("Entry"))
    method = tables.Column(verbose_name=_("Method"))
    amount = tables.TemplateColumn(
        template_name="dues/includes/amount_cell.html", verbose_name=_("Amount")
    )
    receipt_number = tables.Column(
        verbose_name=_("Receipt"),
        linkify=("dues:receipt", {"public_id": tables.A("public_id")}),
    )
    state = tables.TemplateColumn(
        template_name="dues/includes/state_cell.html", verbose_name=_("State"), orderable=False
    )

    class Meta:
        model = LedgerEntry
        fields = ("booked_on", "member", "number", "kind", "method", "amount", "receipt_number")
        orderable = False
        attrs = {"class": "table"}


class ArrearsTable(tables.Table):
    label = _("Members behind")
    number = tables.Column(
        verbose_name=_("Number"),
        linkify=("dues:member_account", {"public_id": tables.A("public_id")}),
    )
    working_name = tables.Column(
        verbose_name=_("Working name"),
        linkify=("dues:member_account", {"public_id": tables.A("public_id")}),
    )
    status = tables.Column(verbose_name=_("Status"))
    months_behind = tables.Column(verbose_name=_("Months behind"))
    standing = tables.Column(verbose_name=_("Dues"), orderable=False)

    class Meta:
        model = Member
        fields = ("number", "working_name", "status", "months_behind", "standing")
        orderable = False
        attrs = {"class": "table"}

    def render_standing(self, value: str) -> str:
        return standing_label(value)
