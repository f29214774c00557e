"""The ledger as a spreadsheet for the auditor and donors (django-import-export, export only).

Members appear by number, never by name; waiver reasons stay in the system (they may
describe someone's hardship). Amounts are given twice: signed in the currency's minor
unit (what the ledger holds) and in major units as text, so a spreadsheet cannot turn
them into floats that no longer add up.
"""

from __future__ import annotations

from typing import Any

from import_export import fields, resources, widgets

from dues.models import LedgerEntry
from dues.money import to_major

LEDGER_COLUMNS: tuple[str, ...] = (
    "entry",
    "booked_on",
    "recorded_at",
    "branch",
    "member_number",
    "kind",
    "period",
    "method",
    "provider",
    "external_id",
    "receipt_number",
    "amount_minor",
    "amount",
    "currency",
    "counts",
    "recorded_by",
    "confirmed_by",
    "reverses",
    "refund_of",
)


class LedgerResource(resources.ModelResource):
    entry = fields.Field(attribute="public_id", column_name="entry")
    booked_on = fields.Field(
        attribute="booked_on", column_name="booked_on", widget=widgets.DateWidget("%Y-%m-%d")
    )
    recorded_at = fields.Field(
        attribute="recorded_at",
        column_name="recorded_at",
        widget=widgets.DateTimeWidget("%Y-%m-%dT%H:%M:%S%z"),
    )
    branch = fields.Field(attribute="branch__code", column_name="branch")
    member_number = fields.Field(attribute="member__number", column_name="member_number")
    kind = fields.Field(attribute="kind", column_name="kind")
    period = fields.Field(
        attribute="period", column_name="period", widget=widgets.DateWidget("%Y-%m")
    )
    method = fields.Field(attribute="method", column_name="method")
    provider = fields.Field(attribute="provider", column_name="provider")
    external_id = fields.Field(attribute="external_id", column_name="external_id")
    receipt_number = fields.Field(attribute="receipt_number", column_name="receipt_number")
    amount_minor = fields.Field(attribute="amount", column_name="amount_minor")
    amount = fields.Field(column_name="amount")
    currency = fields.Field(attribute="currency", column_name="currency")
    counts = fields.Field(column_name="counts")
    recorded_by = fields.Field(attribute="recorded_by__username", column_name="recorded_by")
    confirmed_by = fields.Field(column_name="confirmed_by")
    reverses = fields.Field(attribute="reverses__public_id", column_name="reverses")
    refund_of = fields.Field(attribute="refund_of__public_id", column_name="refund_of")

    class Meta:
        model = LedgerEntry
        fields = LEDGER_COLUMNS
        export_order = LEDGER_COLUMNS
        chunk_size = 2000

    def dehydrate_amount(self, entry: LedgerEntry) -> str:
        return str(to_major(entry.amount, entry.currency))

    def dehydrate_counts(self, entry: LedgerEntry) -> str:
        confirmed = getattr(entry, "confirmation", None) is not None
        return "yes" if not entry.needs_confirmation or confirmed else "no"

    def dehydrate_confirmed_by(self, entry: LedgerEntry) -> str:
        confirmation = getattr(entry, "confirmation", None)
        return confirmation.confirmed_by.username if confirmation is not None else ""

    @classmethod
    def queryset_for(cls, qs: Any) -> Any:
        return qs.select_related(
            "branch",
            "member",
            "recorded_by",
            "confirmation__confirmed_by",
            "reverses",
            "refund_of",
        ).order_by("id")
