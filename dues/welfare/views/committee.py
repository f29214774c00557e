"""The office side of applications: the committee's queue and decisions, the emergency
path, applying for a member, and the supporting documents."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dues.welfare import selectors
from dues.welfare.audit import WelfareAction
from dues.welfare.forms import (
    ApproveForm,
    ConflictForm,
    EmergencyForm,
    OfficeApplicationForm,
    QuestionForm,
    ReasonForm,
    ReviewForm,
)
from dues.welfare.models import (
    ApplicationDocument,
    ApplicationStatus,
    Review,
    WelfareApplication,
)
from dues.welfare.services import applications
from dues.welfare.services.common import audit
from union import permissions
from union.forms import add_service_errors
from union.models import Member, MemberStatus
from union.pagination import paginate
from union.permissions import Perm
from union.views.guards import OfficeRequest, office_view

# Who may open an application: those who see, decide or pay in its branch, and whoever
# applied on the member's behalf (the selector shows them their own only).
OFFICE = (
    Perm.VIEW_WELFARE,
    Perm.DECIDE_WELFARE,
    Perm.PAY_WELFARE,
    Perm.EMERGENCY_WELFARE,
    Perm.APPLY_WELFARE_FOR_MEMBER,
)


def application_in_scope(request: OfficeRequest, public_id: Any) -> WelfareApplication:
    application = selectors.office_applications(request.user).filter(public_id=public_id).first()
    if application is None:
        raise Http404  # the same answer for another branch's and for none at all
    return application


def _detail_url(application: WelfareApplication) -> str:
    return reverse("dues:welfare_application", args=[application.public_id])


@office_view(Perm.VIEW_WELFARE)
def home(request: OfficeRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "dues/welfare/office/home.html",
        {
            "funds": list(selectors.funds_for(user)),
            "counts": selectors.office_counts(user),
            "transfers": list(selectors.pending_transfers_for(user)[:20]),
            "can": {
                perm.value: permissions.has_perm(user, perm)
                for perm in (
                    Perm.DECIDE_WELFARE,
                    Perm.PAY_WELFARE,
                    Perm.MANAGE_WELFARE_FUNDS,
                    Perm.APPLY_WELFARE_FOR_MEMBER,
                    Perm.EXPORT_LEDGER,
                )
            },
        },
    )


@office_view(Perm.DECIDE_WELFARE)
def queue(request: OfficeRequest) -> HttpResponse:
    page = paginate(
        selectors.queue_for(request.user),
        sort="oldest",
        allowed={"oldest": "id"},
        cursor=request.GET.get("cursor"),
        size=settings.OFFICE_PAGE_SIZE,
    )
    return render(
        request,
        "dues/welfare/office/queue.html",
        {"page": page, "reviews": list(selectors.reviews_for(request.user)[:50])},
    )


def _context(request: OfficeRequest, application: WelfareApplication, **forms: Any) -> dict:
    user = request.user
    branch_id = application.branch_id
    decides = permissions.has_perm(user, Perm.DECIDE_WELFARE, branch_id)
    emergency = permissions.has_perm(user, Perm.EMERGENCY_WELFARE, branch_id)
    involved = application.member.user_id == user.pk or application.submitted_by_id == user.pk
    open_ = application.status in (ApplicationStatus.PENDING, ApplicationStatus.NEEDS_INFO)
    currency = application.currency
    fund = selectors.funds_with_figures().get(pk=application.fund_id)
    reads = (decides or emergency) and not involved
    context: dict[str, Any] = {
        "application": application,
        "fund": fund,
        "reads": reads,
        "decisions": list(
            application.decisions.select_related("decider").order_by("created_at", "id")
        )
        if reads
        else [],
        "documents": list(application.documents.order_by("uploaded_at")) if decides else [],
        "approvers": len(selectors.approvals(application)),
        "can_pay": permissions.has_perm(user, Perm.PAY_WELFARE, branch_id)
        and application.status == ApplicationStatus.APPROVED,
        "payouts": list(application.payouts.order_by("-recorded_at"))
        if permissions.has_perm(user, Perm.PAY_WELFARE, branch_id)
        else [],
        "can_repay": permissions.has_perm(user, Perm.PAY_WELFARE, branch_id)
        and application.loan
        and application.status == ApplicationStatus.PAID,
        "outstanding": selectors.loan_outstanding(application),
    }
    if decides and not involved and open_:
        context["approve_form"] = forms.get("approve_form") or ApproveForm(
            currency=currency,
            initial={"amount": application.amount, "version": application.version},
        )
        context["reject_form"] = forms.get("reject_form") or ReasonForm()
        if application.status == ApplicationStatus.PENDING:
            context["ask_form"] = forms.get("ask_form") or QuestionForm()
        context["conflict_form"] = forms.get("conflict_form") or ConflictForm()
    if emergency and not involved and open_:
        context["emergency_form"] = forms.get("emergency_form") or EmergencyForm(
            currency=currency, initial={"amount": application.amount}
        )
    if decides and not involved and application.review == Review.PENDING:
        context["review_form"] = forms.get("review_form") or ReviewForm()
    return context


@office_view(*OFFICE)
def application_detail(request: OfficeRequest, public_id: str) -> HttpResponse:
    application = application_in_scope(request, public_id)
    context = _context(request, application)
    if context["reads"]:
        audit(request.user, WelfareAction.VIEW, application)
    return render(request, "dues/welfare/office/application.html", context)


def _decision_view(
    form_name: str,
    make_form: Callable[[OfficeRequest, WelfareApplication], Any],
    act: Callable[[OfficeRequest, WelfareApplication, dict[str, Any]], object],
    done: str,
) -> Callable[..., HttpResponse]:
    """A POST-only screen that feeds one form to one service and comes back to the
    application: with the service's error next to the form if it refused."""

    def view(request: OfficeRequest, public_id: str) -> HttpResponse:
        application = application_in_scope(request, public_id)
        form = make_form(request, application)
        if form.is_valid():
            try:
                act(request, application, form.cleaned_data)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, done)
                return redirect(_detail_url(application))
        application.refresh_from_db()
        context = _context(request, application, **{form_name: form})
        context[form_name] = form
        return render(request, "dues/welfare/office/application.html", context, status=400)

    return view


def _currency_form(cls: type) -> Callable[[OfficeRequest, WelfareApplication], Any]:
    return lambda request, application: cls(request.POST, currency=application.currency)


def _plain_form(cls: type) -> Callable[[OfficeRequest, WelfareApplication], Any]:
    return lambda request, application: cls(request.POST)


approve = require_POST(
    office_view(Perm.DECIDE_WELFARE)(
        _decision_view(
            "approve_form",
            _currency_form(ApproveForm),
            lambda request, application, data: applications.approve_application(
                actor=request.user,
                application=application,
                amount=data["amount"],
                reason=data["reason"],
                version=data["version"],
                over_available=data["over_available"],
            ),
            _("Your approval is recorded."),
        )
    )
)

reject = require_POST(
    office_view(Perm.DECIDE_WELFARE)(
        _decision_view(
            "reject_form",
            _plain_form(ReasonForm),
            lambda request, application, data: applications.reject_application(
                actor=request.user, application=application, reason=data["reason"]
            ),
            _("The application is rejected."),
        )
    )
)

ask = require_POST(
    office_view(Perm.DECIDE_WELFARE)(
        _decision_view(
            "ask_form",
            _plain_form(QuestionForm),
            lambda request, application, data: applications.ask_for_information(
                actor=request.user, application=application, question=data["question"]
            ),
            _("The question is sent to the member."),
        )
    )
)

conflict = require_POST(
    office_view(Perm.DECIDE_WELFARE)(
        _decision_view(
            "conflict_form",
            _plain_form(ConflictForm),
            lambda request, application, data: applications.declare_conflict(
                actor=request.user, application=application, relationship=data["relationship"]
            ),
            _("Recorded. You will not approve this application."),
        )
    )
)

emergency = require_POST(
    office_view(Perm.EMERGENCY_WELFARE)(
        _decision_view(
            "emergency_form",
            _currency_form(EmergencyForm),
            lambda request, application, data: applications.approve_emergency(
                actor=request.user,
                application=application,
                amount=data["amount"],
                reason=data["reason"],
            ),
            _("Approved. The committee will review it."),
        )
    )
)

review = require_POST(
    office_view(Perm.DECIDE_WELFARE)(
        _decision_view(
            "review_form",
            _plain_form(ReviewForm),
            lambda request, application, data: applications.review_emergency(
                actor=request.user,
                application=application,
                upheld=data["upheld"],
                reason=data["reason"],
            ),
            _("Your review is recorded."),
        )
    )
)


@office_view(Perm.DECIDE_WELFARE)
def document(request: OfficeRequest, public_id: str) -> HttpResponse:
    """A supporting document, to the committee only, each view in the audit log."""
    found = (
        ApplicationDocument.objects.filter(public_id=public_id)
        .select_related("application__branch")
        .first()
    )
    if found is None or not permissions.has_perm(
        request.user, Perm.DECIDE_WELFARE, found.application.branch_id
    ):
        raise Http404
    content = applications.read_document(actor=request.user, document=found)
    response = HttpResponse(content, content_type=found.content_type)
    response["Content-Disposition"] = f'inline; filename="document-{found.public_id.hex[:8]}"'
    response["X-Content-Type-Options"] = "nosniff"
    # Nothing in a document may load or run anything. A PDF needs the browser's own viewer
    # (an embedded object: a sandbox would block it); an image needs nothing at all.
    response["Content-Security-Policy"] = (
        "default-src 'none'; object-src 'self'; img-src 'self'"
        if found.content_type == "application/pdf"
        else "default-src 'none'; img-src 'self'; sandbox"
    )
    return response


@office_view(Perm.APPLY_WELFARE_FOR_MEMBER)
def apply_for_member(request: OfficeRequest) -> HttpResponse:
    """An officer or crisis responder applies on a member's behalf (by membership number)."""
    branches = permissions.scope_for(request.user, Perm.APPLY_WELFARE_FOR_MEMBER)
    member: Member | None = None
    number = (request.POST.get("member_number") or request.GET.get("number") or "").strip()
    if number:
        member = (
            permissions.visible(
                Member.objects.select_related("branch"),
                request.user,
                Perm.APPLY_WELFARE_FOR_MEMBER,
            )
            .filter(number=number.upper())
            .first()
        )
    currency = member.branch.currency if member else "XOF"
    purposes = selectors.purposes_for(member.branch) if member else None
    form = OfficeApplicationForm(
        request.POST or None,
        request.FILES or None,
        currency=currency,
        purposes=purposes,
        initial={"member_number": number},
    )
    if request.method == "POST" and form.is_valid():
        if member is None or not branches:
            form.add_error("member_number", _("No member of your branches has this number."))
        elif member.status not in (MemberStatus.ACTIVE, MemberStatus.LAPSED):
            form.add_error("member_number", _("Only members of the union can receive welfare."))
        else:
            data = form.cleaned_data
            try:
                application = applications.submit_application(
                    actor=request.user,
                    member=member,
                    purpose=data["purpose"],
                    amount=data["amount"],
                    note=data["note"],
                    payee=form.payee(),
                    dependants=data["dependants"] or 0,
                    loan=data["loan"],
                    uploads=[applications.Upload(data["document"])] if data["document"] else [],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("The application is sent to the committee."))
                return redirect(_detail_url(application))
    return render(
        request,
        "dues/welfare/office/apply.html",
        {"form": form, "member": member},
        status=400 if request.method == "POST" else 200,
    )
