"""Legal follow-up of arrests and rights violations."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crisis import rota
from crisis.forms import CaseCloseForm, CaseForm, CourtDateForm
from crisis.models import LegalCase
from crisis.services import cases
from crisis.services.rota import crisis_team
from crisis.views.common import callout_in_scope, in_scope
from union import permissions
from union.forms import add_service_errors
from union.permissions import Perm
from union.views.guards import OfficeRequest, office_view


def _case_in_scope(request: OfficeRequest, public_id: Any) -> LegalCase:
    return in_scope(
        LegalCase.objects.select_related("branch", "member", "paralegal", "callout"),
        request,
        Perm.RESPOND_CALLOUT,
        public_id=public_id,
    )


@office_view(Perm.RESPOND_CALLOUT)
def case_list(request: OfficeRequest) -> HttpResponse:
    found = permissions.visible(
        LegalCase.objects.select_related("branch", "member", "paralegal", "callout"),
        request.user,
        Perm.RESPOND_CALLOUT,
    ).order_by("closed_at", "-opened_at")[:100]
    return render(request, "crisis/office/cases.html", {"cases": list(found)})


@require_POST
@office_view(Perm.RESPOND_CALLOUT)
def case_open(request: OfficeRequest, public_id: Any) -> HttpResponse:
    callout = callout_in_scope(request, public_id, Perm.RESPOND_CALLOUT)
    case = cases.open_case(actor=request.user, callout=callout)
    return redirect("crisis:case_detail", case.public_id)


@office_view(Perm.RESPOND_CALLOUT)
def case_detail(request: OfficeRequest, public_id: Any) -> HttpResponse:
    case = _case_in_scope(request, public_id)
    team = crisis_team(case.branch)
    tz = rota.zone(case.branch.time_zone)
    action = request.POST.get("action") if request.method == "POST" else None
    case_form = CaseForm(
        request.POST if action == "update" else None,
        team=team,
        initial={"paralegal": case.paralegal, "lawyer": case.lawyer, "notes": case.notes},
    )
    court_form = CourtDateForm(request.POST if action == "court" else None)
    close_form = CaseCloseForm(request.POST if action == "close" else None)
    try:
        if action == "update" and case_form.is_valid():
            cases.update_case(actor=request.user, case=case, **case_form.cleaned_data)
            messages.success(request, _("Saved."))
            return redirect("crisis:case_detail", case.public_id)
        if action == "court" and court_form.is_valid():
            at = court_form.cleaned_data["at"]
            local = timezone.make_aware(at.replace(tzinfo=None), tz)  # the branch's clock
            cases.add_court_date(
                actor=request.user, case=case, at=local, place=court_form.cleaned_data["place"]
            )
            messages.success(request, _("Court date added; reminders go out the day before."))
            return redirect("crisis:case_detail", case.public_id)
        if action == "close" and close_form.is_valid():
            cases.close_case(
                actor=request.user, case=case, outcome=close_form.cleaned_data["outcome"]
            )
            messages.success(request, _("Case closed."))
            return redirect("crisis:case_detail", case.public_id)
    except ValidationError as exc:
        form = {"update": case_form, "court": court_form, "close": close_form}[action or "update"]
        add_service_errors(form, exc)
    if request.method == "GET":
        cases.record_view(actor=request.user, case=case)
    context = {
        "case": case,
        "court_dates": list(case.court_dates.all()),
        "case_form": case_form,
        "court_form": court_form,
        "close_form": close_form,
        "tz": case.branch.time_zone,
        "callout": case.callout,
        "can_welfare": permissions.has_perm(
            request.user, Perm.APPLY_WELFARE_FOR_MEMBER, case.branch_id
        ),
    }
    return render(request, "crisis/office/case_detail.html", context)
