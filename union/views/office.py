"""Office screens for branch officers: the register, applicants, statuses and roles."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from union import permissions, registry, selectors
from union.filters import MemberFilter
from union.forms import (
    ApproveForm,
    AssistedRegistrationForm,
    BranchContactForm,
    ContactDetailsForm,
    EraseMemberForm,
    RejectForm,
    RoleAssignmentForm,
    StatusChangeForm,
    add_service_errors,
)
from union.models import AuditAction, Branch, Member, MemberStatus
from union.pagination import paginate
from union.permissions import Perm
from union.services import branches as branch_services
from union.services import erasure
from union.services import members as member_services
from union.services import roles as role_services
from union.services.audit import record_access, record_member_access
from union.tables import ApplicantTable, MemberTable, RoleTable
from union.views.guards import OfficeRequest, office_view

REGISTER_SORTS = {
    "working_name": "working_name",
    "-working_name": "-working_name",
    "number": "number",
    "-number": "-number",
}


@office_view()
def office_home(request: OfficeRequest) -> HttpResponse:
    user = request.user
    can = {perm.value: permissions.has_perm(user, perm) for perm in Perm}
    applicants = list(selectors.applicants_for(user).order_by("applied_at")[:6])
    return render(
        request,
        "office/home.html",
        {
            "can": can,
            "contact_branches": selectors.branches_for(user, Perm.EDIT_BRANCH),
            "waiting": selectors.waiting_for(user),
            "applicants": applicants[:5],
            "more_applicants": len(applicants) > 5,
        },
    )


@office_view(Perm.VIEW_REGISTER)
def member_list(request: OfficeRequest) -> HttpResponse:
    user = request.user
    branches = selectors.branches_for(user, Perm.VIEW_REGISTER)
    # Where members stand on dues is for those who may see the ledger.
    show_standing = permissions.has_perm(user, Perm.VIEW_LEDGER)
    member_filter = MemberFilter(
        request.GET or None,
        queryset=selectors.register_for(user),
        branches=branches,
        show_standing=show_standing,
    )
    qs = (
        member_filter.qs
        if member_filter.is_bound and member_filter.is_valid()
        else (selectors.register_for(user))
    )
    display = registry.standing_display()
    if show_standing and display is not None:
        qs = display.annotate(qs)
    page = paginate(
        qs.only("public_id", "number", "working_name", "status", "branch__code"),
        sort=request.GET.get("sort", ""),
        allowed=REGISTER_SORTS,
        cursor=request.GET.get("cursor"),
        size=settings.OFFICE_PAGE_SIZE,
    )
    table = MemberTable(page.rows, order_by=page.sort, standing=display if show_standing else None)
    return render(
        request,
        "office/member_list.html",
        {"filter": member_filter, "table": table, "page": page},
    )


def _member_in_scope(request: OfficeRequest, public_id: str, perm: Perm) -> Member:
    member = selectors.members_visible_to(request.user, perm).filter(public_id=public_id).first()
    if member is None:
        # Same answer whether the member does not exist or is in another branch.
        raise Http404
    return member


@office_view(Perm.VIEW_REGISTER)
def member_detail(request: OfficeRequest, public_id: str) -> HttpResponse:
    member = _member_in_scope(request, public_id, Perm.VIEW_REGISTER)
    user = request.user
    show_contact = permissions.has_perm(user, Perm.VIEW_CONTACT, member.branch_id)
    record_member_access(actor=user, action=AuditAction.MEMBER_VIEW, member=member)
    can_change = permissions.has_perm(user, Perm.CHANGE_STATUS, member.branch_id)
    display = registry.standing_display()
    context = {
        "dues_position": display.describe(member)
        if display is not None and permissions.has_perm(user, Perm.VIEW_LEDGER, member.branch_id)
        else "",
        "member": member,
        "show_contact": show_contact,
        "history": member.status_history.select_related("changed_by").all(),
        "roles": member.roles.select_related("branch").all(),
        "moves": member.moves.select_related("from_branch", "to_branch").all(),
        "status_form": StatusChangeForm(member=member) if can_change else None,
        "can_issue_code": permissions.has_perm(user, Perm.APPROVE_MEMBER, member.branch_id)
        and member.status in (MemberStatus.ACTIVE, MemberStatus.LAPSED)
        and member.erased_at is None,
        "can_erase": permissions.has_perm(user, Perm.ERASE_MEMBER, member.branch_id)
        and member.erased_at is None,
    }
    return render(request, "office/member_detail.html", context)


@office_view(Perm.VIEW_CONTACT)
def member_edit(request: OfficeRequest, public_id: str) -> HttpResponse:
    member = _member_in_scope(request, public_id, Perm.VIEW_CONTACT)
    form = ContactDetailsForm(request.POST or None, member=member)
    if request.method == "POST" and form.is_valid() and form.save(actor=request.user):
        messages.success(request, _("Saved."))
        return redirect("union:member_detail", public_id=member.public_id)
    return render(request, "office/member_edit.html", {"member": member, "form": form})


@office_view(Perm.ERASE_MEMBER)
def member_erase(request: OfficeRequest, public_id: str) -> HttpResponse:
    """Erase a member's personal details at her request, once the officer typed her number."""
    member = _member_in_scope(request, public_id, Perm.ERASE_MEMBER)
    if member.erased_at is not None:
        return redirect("union:member_detail", public_id=member.public_id)
    form = EraseMemberForm(request.POST or None, member=member)
    if request.method == "POST" and form.is_valid():
        erasure.erase_member(actor=request.user, member=member)
        messages.success(request, _("The member's personal details are erased."))
        return redirect("union:member_detail", public_id=member.public_id)
    return render(
        request,
        "office/member_erase.html",
        {"member": member, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@office_view(Perm.CHANGE_STATUS)
def member_status(request: OfficeRequest, public_id: str) -> HttpResponse:
    member = _member_in_scope(request, public_id, Perm.CHANGE_STATUS)
    form = StatusChangeForm(request.POST, member=member)
    if form.is_valid():
        try:
            member_services.change_member_status(
                actor=request.user,
                member=member,
                to=form.cleaned_data["status"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Status changed."))
    else:
        messages.error(request, _("Choose one of the statuses offered."))
    return redirect("union:member_detail", public_id=member.public_id)


@require_POST
@office_view(Perm.APPROVE_MEMBER)
def member_code(request: OfficeRequest, public_id: str) -> HttpResponse:
    member = _member_in_scope(request, public_id, Perm.APPROVE_MEMBER)
    try:
        code = member_services.issue_set_password_code(actor=request.user, member=member)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("union:member_detail", public_id=member.public_id)
    return render(request, "office/login_code.html", {"member": member, "code": code})


@office_view(Perm.APPROVE_MEMBER)
def applicant_list(request: OfficeRequest) -> HttpResponse:
    page = paginate(
        selectors.applicants_for(request.user),
        sort="applied_at",
        allowed={"applied_at": "applied_at"},
        cursor=request.GET.get("cursor"),
        size=settings.OFFICE_PAGE_SIZE,
    )
    return render(
        request,
        "office/applicant_list.html",
        {"table": ApplicantTable(page.rows), "page": page},
    )


@office_view(Perm.APPROVE_MEMBER)
def applicant(request: OfficeRequest, public_id: str) -> HttpResponse:
    member = _member_in_scope(request, public_id, Perm.APPROVE_MEMBER)
    if member.status != MemberStatus.APPLICANT:
        return redirect("union:member_detail", public_id=member.public_id)
    approve_form = ApproveForm(initial={"create_login": True})
    reject_form = RejectForm()
    if request.method == "POST":
        try:
            if "approve" in request.POST:
                approve_form = ApproveForm(request.POST)
                if approve_form.is_valid():
                    approval = member_services.approve_applicant(
                        actor=request.user,
                        member=member,
                        create_login=approve_form.cleaned_data["create_login"],
                    )
                    messages.success(
                        request,
                        _("%(name)s is now member %(number)s.")
                        % {"name": member.working_name, "number": approval.member.number},
                    )
                    if approval.set_password_code:
                        return render(
                            request,
                            "office/login_code.html",
                            {"member": approval.member, "code": approval.set_password_code},
                        )
                    return redirect("union:applicants")
            else:
                reject_form = RejectForm(request.POST)
                if reject_form.is_valid():
                    member_services.reject_applicant(
                        actor=request.user, member=member, reason=reject_form.cleaned_data["reason"]
                    )
                    messages.success(request, _("The application was rejected."))
                    return redirect("union:applicants")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("union:applicants")
    record_access(
        actor=request.user,
        action=AuditAction.MEMBER_VIEW,
        target=f"member:{member.public_id}",
        branch=member.branch,
    )
    return render(
        request,
        "office/applicant.html",
        {
            "member": member,
            "approve_form": approve_form,
            "reject_form": reject_form,
            "show_contact": permissions.has_perm(request.user, Perm.VIEW_CONTACT, member.branch_id),
        },
    )


@office_view(Perm.REGISTER_MEMBER)
def register_member(request: OfficeRequest) -> HttpResponse:
    branches = selectors.branches_for(request.user, Perm.REGISTER_MEMBER)
    form = AssistedRegistrationForm(
        request.POST or None,
        branches=branches,
        initial={"preferred_language": request.LANGUAGE_CODE},
    )
    if request.method == "POST" and form.is_valid():
        try:
            member_services.register_applicant(
                actor=request.user,
                branch=form.cleaned_data["branch"],
                working_name=form.cleaned_data["working_name"],
                preferred_language=form.cleaned_data["preferred_language"],
                contact_preference=form.cleaned_data["contact_preference"],
                contact=form.contact(),
                consent_sms=form.cleaned_data["consent_sms"],
                consent_crisis_contact=form.cleaned_data["consent_crisis_contact"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Registered. The application waits for the secretary."))
            return redirect("union:register_member")
    return render(request, "office/register_member.html", {"form": form})


@office_view(Perm.EDIT_BRANCH)
def branch_contact(request: OfficeRequest, code: str) -> HttpResponse:
    """The branch's public helpline and drop-in centre, as the public site shows them."""
    branch = selectors.branches_for(request.user, Perm.EDIT_BRANCH).filter(code=code).first()
    if branch is None:
        raise Http404
    form = BranchContactForm(
        request.POST or None,
        initial={
            "helpline": branch.public_helpline,
            "address": branch.public_address,
            "hours": branch.public_hours,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            branch_services.set_public_contact(
                actor=request.user, **form.cleaned_data, branch=branch
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved. The public site shows the new details."))
            return redirect("union:office")
    return render(request, "office/branch_contact.html", {"branch": branch, "form": form})


@office_view(Perm.MANAGE_ROLES)
def role_list(request: OfficeRequest) -> HttpResponse:
    user = request.user
    scope = permissions.scope_for(user, Perm.MANAGE_ROLES)
    branches = Branch.objects.all() if scope.everywhere else scope.branches()
    form = RoleAssignmentForm(request.POST or None, branches=branches)
    if request.method == "POST" and form.is_valid():
        member = (
            selectors.members_visible_to(user, Perm.MANAGE_ROLES)
            .filter(number=form.cleaned_data["member_number"])
            .first()
        )
        if member is None:
            form.add_error("member_number", _("No member with this number in your branches."))
        else:
            try:
                role_services.assign_role(
                    actor=user,
                    member=member,
                    role=form.cleaned_data["role"],
                    branch=form.cleaned_data["branch"],
                    starts_on=form.cleaned_data["starts_on"],
                    ends_on=form.cleaned_data["ends_on"],
                )
            except PermissionDenied:
                form.add_error("role", _("You cannot give this role in this branch."))
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, _("Role assigned."))
                return redirect("union:roles")
    assignments = selectors.role_assignments_for(user).order_by(
        "branch__code", "role", "-starts_on"
    )[:500]
    return render(
        request, "office/roles.html", {"table": RoleTable(list(assignments)), "form": form}
    )


@require_POST
@office_view(Perm.MANAGE_ROLES)
def role_end(request: OfficeRequest, pk: int) -> HttpResponse:
    assignment = get_object_or_404(selectors.role_assignments_for(request.user), pk=pk)
    try:
        role_services.end_role(actor=request.user, assignment=assignment)
    except PermissionDenied:
        messages.error(request, _("You cannot end this role."))
    else:
        messages.success(request, _("Role ended."))
    return redirect("union:roles")
