"""Treasurer screens: the branch dashboard, ledger and arrears lists, cash book, plan, export."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from dues import money, selectors
from dues.filters import ArrearsFilter, LedgerFilter
from dues.forms import CashBookForm, ExchangeRateForm, PlanForm
from dues.models import DuesPlan, Method
from dues.selectors import counts_q
from dues.services import cashbook, exports, moves, plans
from dues.tables import ArrearsTable, LedgerTable
from dues.views.common import chosen_branch
from union import permissions
from union.forms import DateInput, add_service_errors
from union.models import Branch
from union.pagination import paginate
from union.permissions import Perm
from union.views.guards import OfficeRequest, office_view

DASHBOARD_ROWS = 10


@office_view(Perm.VIEW_LEDGER)
def dashboard(request: OfficeRequest) -> HttpResponse:
    user = request.user
    branch = chosen_branch(request)
    arrears = list(
        selectors.arrears_for(user, branch).order_by("-months_behind", "working_name", "id")[
            : DASHBOARD_ROWS + 1
        ]
    )
    context: dict[str, Any] = {
        "branch": branch,
        "branches": selectors.branches_for(user),
        "dash": selectors.dashboard(user, branch),
        "plan": DuesPlan.objects.filter(branch=branch).first(),
        "arrears": arrears[:DASHBOARD_ROWS],
        "more_arrears": len(arrears) > DASHBOARD_ROWS,
        "waivers": list(selectors.waivers_for(user, branch)[:DASHBOARD_ROWS]),
        "waiting": list(selectors.awaiting_confirmation(user, branch)[:50]),
        "stripe_events": list(selectors.stripe_events_for(user)[:5]),
        "can": {
            perm.value: permissions.has_perm(user, perm, branch.id)
            for perm in (
                Perm.RECORD_PAYMENT,
                Perm.CONFIRM_PAYMENT,
                Perm.MANAGE_DUES_PLAN,
                Perm.EXPORT_LEDGER,
            )
        },
    }
    return render(request, "dues/office/dashboard.html", context)


@office_view(Perm.VIEW_LEDGER)
def ledger_list(request: OfficeRequest) -> HttpResponse:
    user = request.user
    branches = selectors.branches_for(user)
    ledger_filter = LedgerFilter(
        request.GET or None, queryset=selectors.ledger_for(user), branches=branches
    )
    qs = (
        ledger_filter.qs
        if ledger_filter.is_bound and ledger_filter.is_valid()
        else selectors.ledger_for(user)
    )
    page = paginate(
        qs,
        sort="newest",
        allowed={"newest": "-id"},
        cursor=request.GET.get("cursor"),
        size=settings.OFFICE_PAGE_SIZE,
    )
    return render(
        request,
        "dues/office/ledger.html",
        {"filter": ledger_filter, "table": LedgerTable(page.rows), "page": page},
    )


@office_view(Perm.VIEW_LEDGER)
def arrears_list(request: OfficeRequest) -> HttpResponse:
    branch = chosen_branch(request)
    base = selectors.arrears_for(request.user, branch)
    arrears_filter = ArrearsFilter(request.GET or None, queryset=base)
    qs = arrears_filter.qs if arrears_filter.is_bound and arrears_filter.is_valid() else base
    page = paginate(
        qs,
        sort=request.GET.get("sort", ""),
        allowed={"working_name": "working_name", "number": "number"},
        cursor=request.GET.get("cursor"),
        size=settings.OFFICE_PAGE_SIZE,
    )
    return render(
        request,
        "dues/office/arrears.html",
        {
            "branch": branch,
            "branches": selectors.branches_for(request.user),
            "filter": arrears_filter,
            "table": ArrearsTable(page.rows),
            "page": page,
        },
    )


def _cash_book_context(request: OfficeRequest, branch: Any, day: Any) -> dict[str, Any]:
    entries = list(selectors.cash_book(request.user, branch, day))
    counting_ids = set(
        selectors.cash_book(request.user, branch, day)
        .filter(counts_q())
        .values_list("id", flat=True)
    )
    per_officer: dict[Any, dict[str, int]] = defaultdict(lambda: {"cash": 0, "mobile_money": 0})
    for entry in entries:
        if entry.id in counting_ids:
            per_officer[entry.recorded_by][entry.method] -= entry.amount
    close = selectors.cash_book_close(branch, day)
    users = get_user_model().objects.in_bulk(
        [row["user_id"] for row in (close.per_officer if close else []) if row["user_id"]]
    )
    return {
        "branch": branch,
        "branches": selectors.branches_for(request.user),
        "day": day,
        "entries": entries,
        "counting_ids": counting_ids,
        "per_officer": sorted(per_officer.items(), key=lambda item: str(item[0] or "")),
        "cash_total": sum(t[Method.CASH] for t in per_officer.values()),
        "mobile_total": sum(t[Method.MOBILE_MONEY] for t in per_officer.values()),
        "close": close,
        "close_rows": [
            {**row, "user": users.get(row["user_id"])}
            for row in (close.per_officer if close else [])
        ],
        "can_close": permissions.has_perm(request.user, Perm.RECORD_PAYMENT, branch.id),
        "currency": branch.currency,
        # Welfare paid out in cash that day: the close lists them for the reconciliation.
        "cash_out": sum(amount for _id, amount in cashbook.cash_payouts(branch, day)),
    }


@office_view(Perm.VIEW_LEDGER)
def cash_book(request: OfficeRequest) -> HttpResponse:
    branch = chosen_branch(request)
    today = money.local_today(branch.time_zone)
    form = CashBookForm(request.GET if "day" in request.GET else None, initial={"day": today})
    day = form.cleaned_data["day"] if form.is_bound and form.is_valid() else today
    context = _cash_book_context(request, branch, day)
    context["form"] = form
    return render(request, "dues/office/cashbook.html", context)


@require_POST
@office_view(Perm.RECORD_PAYMENT)
def close_cash_book(request: OfficeRequest) -> HttpResponse:
    branch = chosen_branch(request, Perm.RECORD_PAYMENT)
    form = CashBookForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a day."))
        return redirect(f"{reverse('dues:cashbook')}?branch={branch.code}")
    day = form.cleaned_data["day"]
    try:
        cashbook.close_cash_book(actor=request.user, branch=branch, day=day)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The cash book is closed for this day."))
    return redirect(f"{reverse('dues:cashbook')}?branch={branch.code}&day={day.isoformat()}")


@office_view(Perm.MANAGE_DUES_PLAN)
def plan(request: OfficeRequest, code: str) -> HttpResponse:
    branch = selectors.branches_for(request.user, Perm.MANAGE_DUES_PLAN).filter(code=code).first()
    if branch is None:
        raise Http404
    current = DuesPlan.objects.filter(branch=branch).first()
    currency = branch.currency
    initial: dict[str, Any] = {"grace_months": 3, "charge_joining_month": True}
    if current is not None:
        initial = {
            "monthly_amount": money.to_major(current.monthly_amount, currency),
            "solidarity_amount": money.to_major(current.solidarity_amount, currency),
            "grace_months": current.grace_months,
            "charge_joining_month": current.charge_joining_month,
            "confirm_threshold": money.to_major(current.confirm_threshold, currency),
        }
    form = PlanForm(request.POST or None, currency=currency, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            plans.set_dues_plan(actor=request.user, branch=branch, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Dues plan saved. It applies from the next monthly dues."))
            return redirect(f"{reverse('dues:dashboard')}?branch={branch.code}")
    return render(
        request, "dues/office/plan.html", {"branch": branch, "form": form, "plan": current}
    )


class ExportForm(forms.Form):
    branch = forms.ModelChoiceField(
        label=gettext_lazy("Branch"),
        queryset=Branch.objects.none(),
        required=False,
        empty_label=gettext_lazy("All my branches"),
    )
    start = forms.DateField(label=gettext_lazy("From"), required=False, widget=DateInput())
    end = forms.DateField(label=gettext_lazy("Until"), required=False, widget=DateInput())
    format = forms.ChoiceField(
        label=gettext_lazy("Format"),
        choices=[("xlsx", "Excel (.xlsx)"), ("csv", "CSV")],
        widget=forms.RadioSelect,
        initial="xlsx",
    )

    def __init__(self, *args: Any, branches: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["branch"].queryset = branches  # type: ignore[attr-defined]


@office_view(Perm.EXPORT_LEDGER)
def export(request: OfficeRequest) -> HttpResponse:
    branches = selectors.branches_for(request.user, Perm.EXPORT_LEDGER)
    form = ExportForm(request.GET or None, branches=branches)
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        result = exports.export_ledger(
            actor=request.user,
            branch=data["branch"],
            start=data["start"],
            end=data["end"],
            fmt=data["format"],
        )
        response = HttpResponse(result.content, content_type=result.content_type)
        response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
        return response
    return render(request, "dues/office/export.html", {"form": form})


@office_view(Perm.VIEW_LEDGER)
def stripe_events(request: OfficeRequest) -> HttpResponse:
    events = list(selectors.stripe_events_for(request.user)[:200])
    return render(request, "dues/office/stripe_events.html", {"events": events})


@office_view(Perm.MANAGE_DUES_PLAN)
def exchange_rates(request: OfficeRequest, code: str) -> HttpResponse:
    """The rates a treasurer records for members moving between branches of different
    currencies (dues.services.moves)."""
    branch = selectors.branches_for(request.user, Perm.MANAGE_DUES_PLAN).filter(code=code).first()
    if branch is None:
        raise Http404
    currencies = sorted(
        set(
            Branch.objects.filter(is_national=False)
            .exclude(currency=branch.currency)
            .values_list("currency", flat=True)
        )
    )
    form = ExchangeRateForm(request.POST or None, currencies=currencies)
    if request.method == "POST" and form.is_valid():
        try:
            moves.record_rate(actor=request.user, branch=branch, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Exchange rate recorded."))
            return redirect("dues:exchange_rates", code=branch.code)
    rates = [
        (currency, rate, moves.rate_display(rate) if rate else None)
        for currency in currencies
        for rate in [moves.latest_rate(branch.currency, currency)]
    ]
    return render(
        request,
        "dues/office/exchange_rates.html",
        {"branch": branch, "form": form, "rates": rates},
        status=400 if request.method == "POST" else 200,
    )
