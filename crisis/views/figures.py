"""Response figures per branch and month, and their export (CSV, XLSX): no names, small
counts hidden."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from crisis import figures, rota, selectors
from crisis.audit import CrisisAction
from crisis.views.common import chosen_branch
from union.exports import CONTENT_TYPES, write_spreadsheet
from union.permissions import Perm
from union.services.audit import record_access
from union.views.guards import OfficeRequest, office_view

EARLIEST_YEAR = 2000


def _period(request: OfficeRequest) -> tuple[int, datetime, datetime]:
    this_year = timezone.now().year
    raw = request.GET.get("year") or str(this_year)
    if not raw.isdigit() or not EARLIEST_YEAR <= int(raw) <= this_year:
        raise Http404
    year = int(raw)
    # A margin of a day either side: months are cut in each branch's own time zone below.
    utc = rota.UTC
    return year, datetime(year, 1, 1, tzinfo=utc), datetime(year + 1, 1, 1, tzinfo=utc)


def _figures(request: OfficeRequest) -> tuple[Any, int, list[figures.MonthFigures]]:
    branch = chosen_branch(request, Perm.VIEW_CRISIS_FIGURES)
    branches = (
        [branch] if branch else list(selectors.branches_for(request.user, Perm.VIEW_CRISIS_FIGURES))
    )
    year, start, end = _period(request)
    found = figures.response_figures(branches, start, end)
    return branch, year, [f for f in found if f.month.year == year]


@office_view(Perm.VIEW_CRISIS_FIGURES)
def figures_view(request: OfficeRequest) -> HttpResponse:
    branch, year, found = _figures(request)
    header, rows = figures.table(found)
    context = {
        "branch": branch,
        "branches": selectors.branches_for(request.user, Perm.VIEW_CRISIS_FIGURES),
        "year": year,
        "years": list(range(timezone.now().year, timezone.now().year - 5, -1)),
        "header": header,
        "rows": rows,
        "minimum": figures.minimum(),
    }
    return render(request, "crisis/office/figures.html", context)


@office_view(Perm.VIEW_CRISIS_FIGURES)
def figures_export(request: OfficeRequest) -> HttpResponse:
    fmt = request.GET.get("format", "csv")
    if fmt not in ("csv", "xlsx"):
        raise Http404
    branch, year, found = _figures(request)
    header, rows = figures.table(found)
    record_access(
        actor=request.user,
        action=CrisisAction.FIGURES,
        target=f"figures:{year}",
        branch=branch,
        rows=len(rows),
    )
    name = f"crisis-figures-{branch.code if branch else 'all'}-{year}"
    # The one export path (union.exports): no cell a spreadsheet would run as a formula.
    content = b"".join(write_spreadsheet(fmt, header, rows, sheet=str(_("Figures"))))
    response = HttpResponse(content, content_type=CONTENT_TYPES[fmt])
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
