"""Funds in the office: a fund's figures and ledger, its rules, gifts, transfers, the
branch's decision rules, and the ledger export for auditors and donors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dues import money
from dues.welfare import selectors
from dues.welfare.forms import (
    FundExportForm,
    FundForm,
    GiftForm,
    PolicyForm,
    RuleForm,
    TransferForm,
)
from dues.welfare.models import Fund, FundTransfer
from dues.welfare.services import exports, funds
from union import permissions
from union.forms import add_service_errors
from union.models import Branch
from union.permissions import Perm
from union.views.guards import OfficeRequest, office_view


def _fund(request: OfficeRequest, public_id: Any, perm: Perm = Perm.VIEW_WELFARE) -> Fund:
    fund = selectors.funds_for(request.user, perm).filter(public_id=public_id).first()
    if fund is None:
        raise Http404
    return fund


def _fund_page(request: OfficeRequest, fund: Fund, status: int = 200, **forms: Any) -> HttpResponse:
    manage = permissions.has_perm(request.user, Perm.MANAGE_WELFARE_FUNDS, fund.branch_id)
    currency = fund.currency
    today = money.local_today(fund.branch.time_zone)
    others = [(str(other.public_id), other.label) for other in _other_funds(fund)]
    context: dict[str, Any] = {
        "fund": fund,
        "rules": list(fund.rules.order_by("-effective_from")[:10]),
        "rule": selectors.rule_in_force(fund.pk, today),
        "entries": list(
            fund.entries.select_related("payout__application").order_by("-booked_on", "-id")[:50]
        ),
        "manage": manage,
    }
    if manage:
        context["rule_form"] = forms.get("rule_form") or RuleForm(
            currency=currency, initial={"effective_from": today, "share_percent": 0}
        )
        context["gift_form"] = forms.get("gift_form") or GiftForm(
            currency=currency, initial={"received_on": today}
        )
        context["transfer_form"] = forms.get("transfer_form") or (
            TransferForm(currency=currency, funds=others) if others else None
        )
    return render(request, "dues/welfare/office/fund.html", context, status=status)


@office_view(Perm.VIEW_WELFARE)
def fund_detail(request: OfficeRequest, public_id: str) -> HttpResponse:
    return _fund_page(request, _fund(request, public_id))


def _fund_post(
    request: OfficeRequest,
    public_id: str,
    form_name: str,
    make_form: Callable[[Fund], Any],
    act: Callable[[Fund, dict[str, Any]], object],
    done: str,
) -> HttpResponse:
    """One form of the fund page fed to one service; back to the page, with the service's
    error next to the form if it refused."""
    fund = _fund(request, public_id, Perm.MANAGE_WELFARE_FUNDS)
    form = make_form(fund)
    if form.is_valid():
        try:
            act(fund, form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("dues:welfare_fund", public_id=fund.public_id)
    return _fund_page(request, fund, status=400, **{form_name: form})


@require_POST
@office_view(Perm.MANAGE_WELFARE_FUNDS)
def fund_rule(request: OfficeRequest, public_id: str) -> HttpResponse:
    return _fund_post(
        request,
        public_id,
        "rule_form",
        lambda fund: RuleForm(request.POST, currency=fund.currency),
        lambda fund, data: funds.set_fund_rule(
            actor=request.user, fund=fund, **RuleForm.rule_of(data)
        ),
        _("The fund's rules are saved."),
    )


@require_POST
@office_view(Perm.MANAGE_WELFARE_FUNDS)
def fund_gift(request: OfficeRequest, public_id: str) -> HttpResponse:
    return _fund_post(
        request,
        public_id,
        "gift_form",
        lambda fund: GiftForm(request.POST, currency=fund.currency),
        lambda fund, data: funds.record_gift(
            actor=request.user,
            fund=fund,
            amount=data["amount"],
            currency=fund.currency,
            kind=data["kind"],
            source=data["source"],
            received_on=data["received_on"],
            restricted=data["restricted"],
        ),
        _("Recorded."),
    )


def _other_funds(fund: Fund) -> list[Fund]:
    return list(
        Fund.objects.filter(currency=fund.currency).exclude(pk=fund.pk).select_related("branch")
    )


@require_POST
@office_view(Perm.MANAGE_WELFARE_FUNDS)
def fund_transfer(request: OfficeRequest, public_id: str) -> HttpResponse:
    def transfer(fund: Fund, data: dict[str, Any]) -> object:
        to_fund = next(f for f in _other_funds(fund) if str(f.public_id) == data["to_fund"])
        return funds.request_transfer(
            actor=request.user,
            from_fund=fund,
            to_fund=to_fund,
            amount=data["amount"],
            reason=data["reason"],
        )

    return _fund_post(
        request,
        public_id,
        "transfer_form",
        lambda fund: TransferForm(
            request.POST,
            currency=fund.currency,
            funds=[(str(other.public_id), other.label) for other in _other_funds(fund)],
        ),
        transfer,
        _("Asked. The committee approves transfers."),
    )


@office_view(Perm.MANAGE_WELFARE_FUNDS)
def fund_new(request: OfficeRequest) -> HttpResponse:
    scope = permissions.scope_for(request.user, Perm.MANAGE_WELFARE_FUNDS)
    branches = list(Branch.objects.all() if scope.everywhere else scope.branches())
    code = (request.POST.get("branch") or request.GET.get("branch") or "").upper()
    branch = next((b for b in branches if b.code == code), branches[0] if branches else None)
    if branch is None:
        raise Http404
    form = FundForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        fund = funds.create_fund(
            actor=request.user, branch=branch, purpose=form.cleaned_data["purpose"]
        )
        messages.success(request, _("The fund exists. Give it its rules."))
        return redirect("dues:welfare_fund", public_id=fund.public_id)
    return render(
        request,
        "dues/welfare/office/fund_new.html",
        {"form": form, "branch": branch, "branches": branches},
    )


@office_view(Perm.MANAGE_WELFARE_FUNDS)
def policy(request: OfficeRequest, code: str) -> HttpResponse:
    scope = permissions.scope_for(request.user, Perm.MANAGE_WELFARE_FUNDS)
    branch = Branch.objects.filter(code=code.upper()).first()
    if branch is None or not scope.allows(branch.pk):
        raise Http404
    current = selectors.policy(branch)
    form = PolicyForm(
        request.POST or None,
        currency=branch.currency,
        initial={
            "approvals_required": current.approvals_required,
            "emergency_max_payout": money.to_major(current.emergency_max_payout, branch.currency),
            "emergency_max_per_coordinator_month": money.to_major(
                current.emergency_max_per_coordinator_month, branch.currency
            ),
            "emergency_max_per_member_year": money.to_major(
                current.emergency_max_per_member_year, branch.currency
            ),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            funds.set_welfare_policy(actor=request.user, branch=branch, **form.policy())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("dues:welfare_office")
    return render(request, "dues/welfare/office/policy.html", {"form": form, "branch": branch})


def _transfer(request: OfficeRequest, public_id: str) -> FundTransfer:
    transfer = selectors.transfers_for(request.user).filter(public_id=public_id).first()
    if transfer is None:
        raise Http404
    return transfer


@require_POST
@office_view(Perm.DECIDE_WELFARE)
def transfer_decide(request: OfficeRequest, public_id: str) -> HttpResponse:
    transfer = _transfer(request, public_id)
    try:
        if request.POST.get("decision") == "reject":
            funds.reject_transfer(actor=request.user, transfer=transfer)
            messages.success(request, _("The transfer is rejected."))
        else:
            funds.approve_transfer(actor=request.user, transfer=transfer)
            messages.success(request, _("Your approval is recorded."))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(reverse("dues:welfare_office"))


@office_view(Perm.EXPORT_LEDGER)
def export(request: OfficeRequest) -> HttpResponse:
    choices = selectors.funds_for(request.user, Perm.EXPORT_LEDGER)
    form = FundExportForm(
        request.GET or None, funds=[(str(fund.public_id), fund.label) for fund in choices]
    )
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        fund = choices.filter(public_id=data["fund"]).first() if data["fund"] else None
        result = exports.export_fund_ledger(
            actor=request.user, fund=fund, start=data["start"], end=data["end"], fmt=data["format"]
        )
        response = HttpResponse(result.content, content_type=result.content_type)
        response["Content-Disposition"] = f'attachment; filename="{result.filename}"'
        return response
    return render(request, "dues/welfare/office/export.html", {"form": form})
