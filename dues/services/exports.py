"""The ledger export for the auditor and donors, written by union.exports like every export
(no cell runs as a formula, whatever an officer typed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.db import transaction

from dues.audit import DuesAction
from dues.models import LedgerEntry
from dues.resources import LedgerResource
from union import permissions
from union.exports import CONTENT_TYPES, export_resource
from union.models import Branch
from union.permissions import Perm
from union.services.audit import record_access

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@dataclass(frozen=True)
class Export:
    content: bytes
    content_type: str
    filename: str
    rows: int


def export_ledger(
    *,
    actor: User,
    branch: Branch | None,
    start: date | None,
    end: date | None,
    fmt: str,
) -> Export:
    """The ledger rows the officer may export (one branch, or all of theirs), between two
    business dates. Side effect: an audit row with the number of rows exported."""
    permissions.require(actor, Perm.EXPORT_LEDGER, branch)
    if fmt not in CONTENT_TYPES:
        raise PermissionDenied
    qs = permissions.visible(LedgerEntry.objects.all(), actor, Perm.EXPORT_LEDGER)
    if branch is not None:
        qs = qs.filter(branch=branch)
    if start is not None:
        qs = qs.filter(booked_on__gte=start)
    if end is not None:
        qs = qs.filter(booked_on__lte=end)
    qs = LedgerResource.queryset_for(qs)
    label = branch.code if branch is not None else "all"
    with transaction.atomic():
        count = qs.count()
        record_access(
            actor=actor,
            action=DuesAction.EXPORT,
            target=f"ledger:{label}",
            branch=branch,
            rows=count,
        )
    content = b"".join(export_resource(LedgerResource(), qs, fmt, sheet="ledger"))
    return Export(
        content=content,
        content_type=CONTENT_TYPES[fmt],
        filename=f"ledger-{label}-{start or 'start'}-{end or 'end'}.{fmt}",
        rows=count,
    )
