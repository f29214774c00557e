"""The fund ledger export for auditors and donors, through the dues export path."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import transaction

from dues.services.exports import Export
from dues.welfare.audit import WelfareAction
from dues.welfare.models import Fund, FundEntry
from dues.welfare.resources import FundLedgerResource
from union import permissions
from union.exports import CONTENT_TYPES, export_resource
from union.permissions import Perm
from union.services.audit import record_access

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def export_fund_ledger(
    *, actor: User, fund: Fund | None, start: date | None, end: date | None, fmt: str
) -> Export:
    """The fund ledger rows the officer may export (one fund, or all of their branches'),
    between two business dates. No member appears in it. Side effect: an audit row with
    the number of rows exported."""
    permissions.require(actor, Perm.EXPORT_LEDGER, fund.branch_id if fund else None)
    if fmt not in CONTENT_TYPES:
        raise PermissionDenied
    qs = permissions.visible(
        FundEntry.objects.all(), actor, Perm.EXPORT_LEDGER, field="fund__branch"
    )
    if fund is not None:
        qs = qs.filter(fund=fund)
    if start is not None:
        qs = qs.filter(booked_on__gte=start)
    if end is not None:
        qs = qs.filter(booked_on__lte=end)
    qs = FundLedgerResource.queryset_for(qs)
    label = f"{fund.branch.code}-{fund.purpose}" if fund is not None else "all"
    with transaction.atomic():
        count = qs.count()
        record_access(
            actor=actor,
            action=WelfareAction.EXPORT,
            target=f"funds:{label}",
            branch=fund.branch if fund else None,
            rows=count,
        )
    # The one export path: every text cell a spreadsheet would run as a formula neutralised.
    content = b"".join(export_resource(FundLedgerResource(), qs, fmt, sheet="funds"))
    return Export(
        content=content,
        content_type=CONTENT_TYPES[fmt],
        filename=f"fund-ledger-{label}-{start or 'start'}-{end or 'end'}.{fmt}",
        rows=count,
    )
