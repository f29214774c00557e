"""The fund ledger as a spreadsheet for auditors and donors (django-import-export, export only).

No member appears in it: payouts are named by their opaque payout id and the purpose of
the application. Amounts are given twice: signed minor units (what the ledger holds) and
major units as text. Text that people typed (a donor's name, a provider or reference) is
neutralised by the one export writer (union.exports), like every cell of every export.
"""

from __future__ import annotations

from typing import Any

from import_export import fields, resources, widgets

from dues.money import to_major
from dues.welfare.models import FundEntry

COLUMNS: tuple[str, ...] = (
    "row",
    "booked_on",
    "recorded_at",
    "branch",
    "fund",
    "kind",
    "amount_minor",
    "amount",
    "currency",
    "purpose",
    "payout",
    "method",
    "provider",
    "reference",
    "transfer",
    "source",
    "restricted",
    "reverses",
)


class FundLedgerResource(resources.ModelResource):
    row = fields.Field(attribute="pk", column_name="row")
    booked_on = fields.Field(
        attribute="booked_on", column_name="booked_on", widget=widgets.DateWidget("%Y-%m-%d")
    )
    recorded_at = fields.Field(
        attribute="recorded_at",
        column_name="recorded_at",
        widget=widgets.DateTimeWidget("%Y-%m-%dT%H:%M:%S%z"),
    )
    branch = fields.Field(attribute="fund__branch__code", column_name="branch")
    fund = fields.Field(attribute="fund__purpose", column_name="fund")
    kind = fields.Field(attribute="kind", column_name="kind")
    amount_minor = fields.Field(attribute="amount", column_name="amount_minor")
    amount = fields.Field(column_name="amount")
    currency = fields.Field(attribute="currency", column_name="currency")
    purpose = fields.Field(attribute="payout__application__purpose", column_name="purpose")
    payout = fields.Field(attribute="payout__public_id", column_name="payout")
    method = fields.Field(attribute="payout__method", column_name="method")
    provider = fields.Field(column_name="provider")
    reference = fields.Field(column_name="reference")
    transfer = fields.Field(attribute="transfer__public_id", column_name="transfer")
    source = fields.Field(column_name="source")
    restricted = fields.Field(column_name="restricted")
    reverses = fields.Field(attribute="reverses_id", column_name="reverses")

    class Meta:
        model = FundEntry
        fields = COLUMNS
        export_order = COLUMNS
        chunk_size = 2000

    def dehydrate_amount(self, entry: FundEntry) -> str:
        return str(to_major(entry.amount, entry.currency))

    def dehydrate_provider(self, entry: FundEntry) -> str:
        return entry.payout.provider if entry.payout else ""

    def dehydrate_reference(self, entry: FundEntry) -> str:
        return entry.payout.reference if entry.payout else ""

    def dehydrate_source(self, entry: FundEntry) -> str:
        return entry.source

    def dehydrate_restricted(self, entry: FundEntry) -> str:
        return "yes" if entry.restricted else ""

    @classmethod
    def queryset_for(cls, qs: Any) -> Any:
        return qs.select_related("fund__branch", "payout__application", "transfer").order_by("id")
