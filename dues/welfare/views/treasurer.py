"""The treasurer's side: approved applications waiting for payment, paying, reversing,
loans still to be repaid and their repayments."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dues import money
from dues.welfare import selectors
from dues.welfare.forms import PayForm, RepaymentForm, ReversePayoutForm, ReverseRepaymentForm
from dues.welfare.models import ApplicationStatus, LoanRepayment, Payout
from dues.welfare.services import loans, payouts
from dues.welfare.services.arrears import arrears_preview
from dues.welfare.views.committee import application_in_scope
from union import permissions
from union.forms import add_service_errors
from union.pagination import paginate
from union.permissions import Perm
from union.views.guards import OfficeRequest, office_view


@office_view(Perm.PAY_WELFARE)
def unpaid(request: OfficeRequest) -> HttpResponse:
    page = paginate(
        selectors.unpaid_for(request.user),
        sort="oldest",
        allowed={"oldest": "id"},
        cursor=request.GET.get("cursor"),
        size=settings.OFFICE_PAGE_SIZE,
    )
    return render(request, "dues/welfare/office/unpaid.html", {"page": page})


@office_view(Perm.PAY_WELFARE)
def pay(request: OfficeRequest, public_id: str) -> HttpResponse:
    """Payout details (decrypted, audited, with warnings) and the form to record the payment.
    Posting it twice records one payout."""
    application = application_in_scope(request, public_id)
    if not permissions.has_perm(request.user, Perm.PAY_WELFARE, application.branch_id):
        raise Http404
    if application.status != ApplicationStatus.APPROVED and request.method != "POST":
        return redirect("dues:welfare_application", public_id=application.public_id)
    today = money.local_today(application.branch.time_zone)
    form = PayForm(
        request.POST or None,
        currency=application.currency,
        initial={"method": application.payout_method, "paid_on": today, "fee": 0},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            payouts.pay_application(
                actor=request.user,
                application=application,
                method=data["method"],
                provider=data["provider"],
                reference=data["reference"],
                paid_on=data["paid_on"],
                fee=data["fee"] or 0,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The payment is recorded."))
            return redirect("dues:welfare_unpaid")
    payee = payouts.reveal_payee(actor=request.user, application=application)
    fund = selectors.funds_with_figures().get(pk=application.fund_id)
    return render(
        request,
        "dues/welfare/office/pay.html",
        {
            "application": application,
            "payee": payee,
            "form": form,
            "fund": fund,
            "arrears": arrears_preview(application),
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@office_view(Perm.PAY_WELFARE)
def reverse_payout(request: OfficeRequest, public_id: str) -> HttpResponse:
    payout = Payout.objects.select_related("application").filter(public_id=public_id).first()
    if payout is None or not permissions.has_perm(
        request.user, Perm.PAY_WELFARE, payout.application.branch_id
    ):
        raise Http404
    form = ReversePayoutForm(request.POST)
    target = reverse("dues:welfare_application", args=[payout.application.public_id])
    if not form.is_valid():
        messages.error(request, _("Say what went wrong."))
        return redirect(target)
    try:
        payouts.reverse_payout(
            actor=request.user,
            payout=payout,
            reason=form.cleaned_data["reason"],
            fee_returned=form.cleaned_data["fee_returned"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The payout is reversed; the application can be paid again."))
    return redirect(target)


@office_view(Perm.PAY_WELFARE)
def loans_list(request: OfficeRequest) -> HttpResponse:
    page = paginate(
        selectors.loans_for(request.user).select_related("member"),
        sort="oldest",
        allowed={"oldest": "id"},
        cursor=request.GET.get("cursor"),
        size=settings.OFFICE_PAGE_SIZE,
    )
    return render(request, "dues/welfare/office/loans.html", {"page": page})


@office_view(Perm.PAY_WELFARE)
def repay(request: OfficeRequest, public_id: str) -> HttpResponse:
    """Record a repayment of a loan. The form carries what it showed as still owed: posted
    twice, the second finds it changed and records nothing."""
    application = application_in_scope(request, public_id)
    if not permissions.has_perm(request.user, Perm.PAY_WELFARE, application.branch_id):
        raise Http404
    if not application.loan or application.status != ApplicationStatus.PAID:
        return redirect("dues:welfare_application", public_id=application.public_id)
    outstanding = selectors.loan_outstanding(application)
    form = RepaymentForm(
        request.POST or None,
        currency=application.currency,
        initial={
            "method": application.payout_method,
            "paid_on": money.local_today(application.branch.time_zone),
            "outstanding": outstanding,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            loans.record_repayment(
                actor=request.user,
                application=application,
                amount=data["amount"],
                method=data["method"],
                provider=data["provider"],
                reference=data["reference"],
                paid_on=data["paid_on"],
                outstanding_seen=data["outstanding"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The repayment is recorded."))
            return redirect("dues:welfare_loans")
    return render(
        request,
        "dues/welfare/office/repay.html",
        {
            "application": application,
            "form": form,
            "outstanding": outstanding,
            "repayments": list(application.repayments.order_by("paid_on", "id")),
            "can_reverse": application.member.user_id != request.user.pk,
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@office_view(Perm.PAY_WELFARE)
def reverse_repayment(request: OfficeRequest, public_id: str) -> HttpResponse:
    """A repayment recorded by mistake is reversed: the loan owes it again."""
    repayment = (
        LoanRepayment.objects.select_related("application").filter(public_id=public_id).first()
    )
    if repayment is None or not permissions.has_perm(
        request.user, Perm.PAY_WELFARE, repayment.application.branch_id
    ):
        raise Http404
    form = ReverseRepaymentForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say what went wrong."))
    else:
        try:
            loans.reverse_repayment(
                actor=request.user, repayment=repayment, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("The repayment is reversed: the loan owes it again."))
    return redirect("dues:welfare_repay", public_id=repayment.application.public_id)
