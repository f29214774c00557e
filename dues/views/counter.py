"""The treasurer's counter: find a member, take a payment, confirm, waive, correct."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dues import money, selectors
from dues.audit import DuesAction
from dues.forms import PaymentForm, RateForm, ReversalForm, SearchForm, WaiverForm
from dues.models import DuesAccount, EntryKind, LedgerEntry, Method, Rate
from dues.services import ledger, plans
from dues.views.common import entry_in_scope, member_in_scope
from union import permissions
from union.forms import add_service_errors
from union.http import safe_next
from union.models import Member
from union.permissions import Perm
from union.selectors import search_q
from union.services.audit import record_access
from union.views.guards import OfficeRequest, office_view

SEARCH_LIMIT = 20


@office_view(Perm.RECORD_PAYMENT, Perm.VIEW_LEDGER)
def find_member(request: OfficeRequest) -> HttpResponse:
    form = SearchForm(request.GET or None)
    results: list[Member] = []
    searched = form.is_bound and form.is_valid() and bool(form.cleaned_data["q"].strip())
    if searched:
        results = list(
            selectors.members_for_dues(request.user, Perm.VIEW_LEDGER)
            .filter(search_q(form.cleaned_data["q"]))
            .order_by("working_name", "id")[:SEARCH_LIMIT]
        )
    return render(
        request,
        "dues/office/find_member.html",
        {"form": form, "results": results, "searched": searched},
    )


def _render_account(
    request: OfficeRequest,
    member: Member,
    *,
    payment_form: PaymentForm | None = None,
    waiver_form: WaiverForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    branch = member.branch
    currency = branch.currency
    # Her own account: another officer records, waives, corrects and rates it.
    own = member.user_id == user.pk
    can_record = not own and permissions.has_perm(user, Perm.RECORD_PAYMENT, branch.id)
    can_waive = not own and permissions.has_perm(user, Perm.GRANT_WAIVER, branch.id)
    today = money.local_today(branch.time_zone)
    if can_record and payment_form is None:
        payment_form = PaymentForm(currency=currency, initial={"paid_on": today})
    if can_waive and waiver_form is None:
        waiver_form = WaiverForm(currency=currency)
    account = DuesAccount.objects.filter(member=member).first()
    plan = getattr(branch, "dues_plan", None)
    context: dict[str, Any] = {
        "member": member,
        "position": selectors.position(member),
        "entries": list(selectors.statement(member).order_by("-booked_on", "-id")[:100]),
        "plan": plan,
        "payment_form": payment_form if can_record else None,
        "waiver_form": waiver_form if can_waive else None,
        "rate_form": RateForm(initial={"rate": account.rate if account else Rate.STANDARD})
        if can_waive
        else None,
        "rate": account.get_rate_display() if account else Rate.STANDARD.label,
        "last_receipt": selectors.last_receipt_number(branch) if can_record else "",
        "can_confirm": not own and permissions.has_perm(user, Perm.CONFIRM_PAYMENT, branch.id),
        "own_account": own,
        "can_correct": can_record or can_waive,
    }
    return render(request, "dues/office/member_account.html", context, status=status)


@office_view(Perm.VIEW_LEDGER, Perm.RECORD_PAYMENT)
def member_account(request: OfficeRequest, public_id: str) -> HttpResponse:
    member = member_in_scope(request, public_id, Perm.VIEW_LEDGER)
    record_access(
        actor=request.user,
        action=DuesAction.VIEW,
        target=f"member:{member.public_id}",
        branch=member.branch,
    )
    return _render_account(request, member)


@require_POST
@office_view(Perm.RECORD_PAYMENT)
def record_payment(request: OfficeRequest, public_id: str) -> HttpResponse:
    member = member_in_scope(request, public_id, Perm.RECORD_PAYMENT)
    form = PaymentForm(request.POST, currency=member.branch.currency)
    if form.is_valid():
        data = form.cleaned_data
        try:
            entry = ledger.record_payment(
                actor=request.user,
                member=member,
                amount=data["amount"],
                currency=member.branch.currency,
                method=data["method"],
                receipt_number=data["receipt_number"],
                paid_on=data["paid_on"],
                provider=data["provider"] if data["method"] == Method.MOBILE_MONEY else "",
                external_id=data["external_id"] if data["method"] == Method.MOBILE_MONEY else "",
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if entry.needs_confirmation and not hasattr(entry, "confirmation"):
                messages.warning(
                    request,
                    _(
                        "Recorded. Above the branch limit: it counts once a second officer "
                        "confirms it."
                    ),
                )
            else:
                messages.success(request, _("Payment recorded."))
            return redirect("dues:receipt", public_id=entry.public_id)
    return _render_account(request, member, payment_form=form, status=400)


@require_POST
@office_view(Perm.GRANT_WAIVER)
def grant_waiver(request: OfficeRequest, public_id: str) -> HttpResponse:
    member = member_in_scope(request, public_id, Perm.GRANT_WAIVER)
    form = WaiverForm(request.POST, currency=member.branch.currency)
    if form.is_valid():
        try:
            ledger.grant_waiver(
                actor=request.user,
                member=member,
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Waiver granted."))
            return redirect("dues:member_account", public_id=member.public_id)
    return _render_account(request, member, waiver_form=form, status=400)


@require_POST
@office_view(Perm.GRANT_WAIVER)
def set_rate(request: OfficeRequest, public_id: str) -> HttpResponse:
    member = member_in_scope(request, public_id, Perm.GRANT_WAIVER)
    form = RateForm(request.POST)
    if form.is_valid():
        try:
            plans.set_member_rate(actor=request.user, member=member, rate=form.cleaned_data["rate"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Rate changed. It applies from the next monthly dues."))
    return redirect("dues:member_account", public_id=member.public_id)


@require_POST
@office_view(Perm.CONFIRM_PAYMENT)
def confirm_entry(request: OfficeRequest, public_id: str) -> HttpResponse:
    entry = entry_in_scope(request, public_id)
    try:
        ledger.confirm_payment(actor=request.user, entry=entry)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        confirmed = (
            _("Correction confirmed. It counts now.")
            if entry.kind == EntryKind.REVERSAL
            else _("Payment confirmed. It counts now.")
        )
        messages.success(request, confirmed)
    return redirect(safe_next(request, reverse("dues:receipt", args=[entry.public_id])))


@office_view(Perm.RECORD_PAYMENT, Perm.GRANT_WAIVER)
def reverse_entry(request: OfficeRequest, public_id: str) -> HttpResponse:
    entry = entry_in_scope(request, public_id)
    form = ReversalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reversal = ledger.reverse_entry(
                actor=request.user, entry=entry, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if LedgerEntry.objects.filter(selectors.awaiting_q(), pk=reversal.pk).exists():
                messages.warning(
                    request,
                    _(
                        "Recorded. Above the branch limit: the correction counts once a "
                        "second officer confirms it."
                    ),
                )
            else:
                messages.success(request, _("Entry corrected."))
            return redirect("dues:member_account", public_id=entry.member.public_id)
    return render(
        request,
        "dues/office/reverse.html",
        {"entry": entry, "form": form, "is_reversal": entry.kind == EntryKind.REVERSAL},
        status=400 if request.method == "POST" else 200,
    )
