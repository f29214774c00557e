"""Office screens for members moving branch: the receiving officer takes a member in;
officers of both branches see the moves."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from union import registry, selectors
from union.forms import MoveInForm
from union.models import AuditAction, Branch
from union.permissions import Perm
from union.services import moves
from union.services.audit import record_member_access
from union.views.guards import OfficeRequest, office_view


@office_view(Perm.VIEW_REGISTER, Perm.MOVE_MEMBER_IN)
def move_list(request: OfficeRequest) -> HttpResponse:
    rows = list(selectors.moves_for(request.user)[: settings.OFFICE_PAGE_SIZE])
    can_take_in = selectors.branches_for(request.user, Perm.MOVE_MEMBER_IN).exists()
    return render(request, "office/moves.html", {"moves": rows, "can_take_in": can_take_in})


@office_view(Perm.MOVE_MEMBER_IN)
def move_in(request: OfficeRequest) -> HttpResponse:
    """Two steps, no JavaScript: her number and the branch she joins; then what each app
    says about her (what she owes, the rate) and asks (how her dues account closes)."""
    user = request.user
    branches = selectors.branches_for(user, Perm.MOVE_MEMBER_IN)
    find = MoveInForm(request.POST or None, user=user, branches=branches)
    if request.method != "POST" or not find.is_valid():
        status = 400 if request.method == "POST" else 200
        return render(request, "office/move_in.html", {"form": find}, status=status)
    member = find.member
    if member is None:  # is_valid() found her, or the number is an error
        raise TypeError
    to_branch = find.cleaned_data["to_branch"]
    confirming = request.POST.get("stage") == "confirm"
    form = MoveInForm(
        request.POST if confirming else None,
        user=user,
        branches=branches,
        steps=registry.move_steps(),
        member=member,
        to_branch=to_branch,
        initial={
            "number": member.number,
            "to_branch": to_branch.pk,
            "from_branch": member.branch.code,
        },
    )
    if confirming and form.is_valid():
        from_branch = Branch.objects.filter(code=form.cleaned_data["from_branch"]).first()
        try:
            moves.move_member(
                actor=user,
                member=member,
                from_branch=from_branch or member.branch,
                to_branch=to_branch,
                answers=form.step_answers(),
            )
        except ValidationError as exc:
            form.add_step_errors(exc)
        else:
            messages.success(
                request,
                _("%(name)s is now a member of %(branch)s. Her number stays %(number)s.")
                % {"name": member.working_name, "branch": to_branch.name, "number": member.number},
            )
            return redirect("union:member_detail", public_id=member.public_id)
    record_member_access(actor=user, action=AuditAction.MEMBER_VIEW, member=member)
    lines = [line for step in registry.move_steps() for line in step.describe(member, to_branch)]
    return render(
        request,
        "office/move_confirm.html",
        {"form": form, "member": member, "to_branch": to_branch, "lines": lines},
        status=400 if confirming else 200,
    )
