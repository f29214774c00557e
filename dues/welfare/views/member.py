"""A member's own welfare: apply, follow the answer, answer a question, see the funds."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from dues.views.member import _own_member
from dues.welfare import selectors, transparency
from dues.welfare.forms import AnswerForm, ApplicationForm, DocumentForm
from dues.welfare.models import ApplicationStatus, WelfareApplication
from dues.welfare.services import applications
from union.forms import add_service_errors
from union.models import Member, MemberStatus


def _member_or_none(request: HttpRequest) -> Member | None:
    member = _own_member(request)
    if member is None or member.status not in (MemberStatus.ACTIVE, MemberStatus.LAPSED):
        return None
    return member


def _uploads(data: bytes | None) -> list[applications.Upload]:
    return [applications.Upload(data)] if data else []


@never_cache
@login_required
def my_welfare(request: HttpRequest) -> HttpResponse:
    member = _own_member(request)
    if member is None:
        return render(request, "account/no_member.html")
    return render(
        request,
        "dues/welfare/my_welfare.html",
        {
            "member": member,
            "requests": list(selectors.own_applications(member)[:50]),
            "can_apply": bool(selectors.purposes_for(member.branch))
            and member.status in (MemberStatus.ACTIVE, MemberStatus.LAPSED),
        },
    )


@never_cache
@login_required
def apply(request: HttpRequest) -> HttpResponse:
    member = _member_or_none(request)
    if member is None:
        return render(request, "account/no_member.html")
    purposes = selectors.purposes_for(member.branch)
    currency = member.branch.currency
    form = ApplicationForm(
        request.POST or None, request.FILES or None, currency=currency, purposes=purposes
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            application = applications.submit_application(
                actor=request.user,  # type: ignore[arg-type]
                member=member,
                purpose=data["purpose"],
                amount=data["amount"],
                note=data["note"],
                payee=form.payee(),
                dependants=data["dependants"] or 0,
                loan=data["loan"],
                uploads=_uploads(data["document"]),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Your request is sent. The committee will answer."))
            return redirect("dues:welfare_mine", public_id=application.public_id)
    return render(
        request,
        "dues/welfare/apply.html",
        {"form": form, "member": member, "purposes": purposes},
        status=400 if request.method == "POST" else 200,
    )


def _own_application(request: HttpRequest, public_id: str) -> WelfareApplication:
    member = _own_member(request)
    application = (
        WelfareApplication.objects.filter(public_id=public_id, member=member)
        .select_related("member", "branch", "fund__branch")
        .first()
    )
    if member is None or application is None:
        raise Http404
    return application


@never_cache
@login_required
def my_application(request: HttpRequest, public_id: str) -> HttpResponse:
    application = _own_application(request, public_id)
    answer = AnswerForm(request.POST or None, request.FILES or None)
    upload = DocumentForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        actor = request.user
        try:
            if "note" in request.POST and answer.is_valid():
                applications.edit_application(
                    actor=actor,  # type: ignore[arg-type]
                    application=application,
                    note=f"{application.note}\n\n{answer.cleaned_data['note']}".strip(),
                )
                if answer.cleaned_data["document"]:
                    applications.add_document(
                        actor=actor,  # type: ignore[arg-type]
                        application=application,
                        upload=applications.Upload(answer.cleaned_data["document"]),
                    )
                messages.success(request, _("Thank you. The committee will look again."))
                return redirect("dues:welfare_mine", public_id=application.public_id)
            if "note" not in request.POST and upload.is_valid() and upload.cleaned_data["document"]:
                applications.add_document(
                    actor=actor,  # type: ignore[arg-type]
                    application=application,
                    upload=applications.Upload(upload.cleaned_data["document"]),
                )
                messages.success(request, _("Document added."))
                return redirect("dues:welfare_mine", public_id=application.public_id)
        except ValidationError as exc:
            add_service_errors(answer if "note" in request.POST else upload, exc)
    return render(
        request,
        "dues/welfare/my_application.html",
        {
            "application": application,
            "answer_form": answer if application.status == ApplicationStatus.NEEDS_INFO else None,
            "document_form": upload
            if application.status not in (ApplicationStatus.PAID, ApplicationStatus.REJECTED)
            else None,
            "documents": application.documents.count(),
            "payout": selectors.live_payout(application),
            "outstanding": selectors.loan_outstanding(application),
            "repayments": list(application.repayments.order_by("paid_on", "id"))
            if application.loan
            else [],
        },
        status=400 if request.method == "POST" else 200,
    )


@never_cache
@login_required
def funds(request: HttpRequest) -> HttpResponse:
    """The funds' figures for members: no names, no single payout, small counts hidden."""
    member = _own_member(request)
    if member is None:
        return render(request, "account/no_member.html")
    return render(
        request,
        "dues/welfare/funds.html",
        {
            "figures": transparency.fund_figures(transparency.funds_for_member(member.branch)),
            "purposes": transparency.purpose_table(member.branch),
            "smallest": transparency.smallest_group(),
        },
    )
