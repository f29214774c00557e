"""The rota and the branch's crisis settings."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crisis import rota, selectors
from crisis.forms import SettingsForm, SlotForm, SwapForm
from crisis.models import RotaSlot
from crisis.services import answers
from crisis.services import rota as rota_services
from crisis.services.common import settings_for
from crisis.views.common import in_scope, one_branch
from union import permissions
from union.forms import add_service_errors
from union.models import Member
from union.permissions import Perm
from union.views.guards import OfficeRequest, office_view


def _rota_url(branch_code: str) -> str:
    return f"{reverse('crisis:rota')}?branch={branch_code}"


@office_view(Perm.VIEW_CALLOUTS)
def rota_view(request: OfficeRequest) -> HttpResponse:
    user = request.user
    branch = one_branch(request, Perm.VIEW_CALLOUTS)
    slots = list(selectors.slots_for(user, branch))
    context: dict[str, Any] = {
        "branch": branch,
        "branches": selectors.branches_for(user),
        "slots": slots,
        "duty": selectors.duty_now(slots, branch),
        "coverage": selectors.coverage(slots, branch),
        "local_now": timezone.now().astimezone(rota.zone(branch.time_zone)),
        "can_edit": permissions.has_perm(user, Perm.COORDINATE_CRISIS, branch.pk),
    }
    return render(request, "crisis/office/rota.html", context)


@office_view(Perm.COORDINATE_CRISIS)
def slot_add(request: OfficeRequest) -> HttpResponse:
    branch = one_branch(request, Perm.COORDINATE_CRISIS)
    team = rota_services.crisis_team(branch)
    local_today = timezone.now().astimezone(rota.zone(branch.time_zone)).date()
    form = SlotForm(request.POST or None, team=team, initial={"valid_from": local_today})
    if request.method == "POST" and form.is_valid():
        try:
            rota_services.add_slot(actor=request.user, branch=branch, spec=form.spec())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Added to the rota."))
            return redirect(_rota_url(branch.code))
    return render(
        request, "crisis/office/slot_form.html", {"form": form, "branch": branch, "swap": None}
    )


def _slot_in_scope(request: OfficeRequest, pk: int) -> RotaSlot:
    return in_scope(
        RotaSlot.objects.select_related("branch", "responder"),
        request,
        Perm.COORDINATE_CRISIS,
        pk=pk,
    )


@office_view(Perm.COORDINATE_CRISIS)
def slot_swap(request: OfficeRequest, pk: int) -> HttpResponse:
    slot = _slot_in_scope(request, pk)
    team = rota_services.crisis_team(slot.branch)
    form = SwapForm(request.POST or None, team=team)
    if request.method == "POST" and form.is_valid():
        try:
            rota_services.swap_slot(
                actor=request.user,
                slot=slot,
                responder=form.cleaned_data["responder"],
                first_day=form.cleaned_data["first_day"],
                last_day=form.cleaned_data["last_day"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Swap added to the rota."))
            return redirect(_rota_url(slot.branch.code))
    return render(
        request, "crisis/office/slot_form.html", {"form": form, "branch": slot.branch, "swap": slot}
    )


@require_POST
@office_view(Perm.COORDINATE_CRISIS)
def slot_end(request: OfficeRequest, pk: int) -> HttpResponse:
    slot = _slot_in_scope(request, pk)
    rota_services.end_slot(actor=request.user, slot=slot)
    messages.success(request, _("Taken off the rota from today."))
    return redirect(_rota_url(slot.branch.code))


@require_POST
@office_view(Perm.COORDINATE_CRISIS)
def responder_reachable(request: OfficeRequest, public_id: Any) -> HttpResponse:
    member = in_scope(
        Member.objects.select_related("branch"),
        request,
        Perm.COORDINATE_CRISIS,
        public_id=public_id,
    )
    answers.mark_reachable(actor=request.user, member=member)
    messages.success(request, _("Alerts will reach them again."))
    return redirect(_rota_url(member.branch.code))


@office_view(Perm.COORDINATE_CRISIS)
def branch_settings(request: OfficeRequest) -> HttpResponse:
    branch = one_branch(request, Perm.COORDINATE_CRISIS)
    form = SettingsForm(request.POST or None, instance=settings_for(branch))
    if request.method == "POST" and form.is_valid():
        try:
            rota_services.save_settings(actor=request.user, branch=branch, spec=form.spec())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(_rota_url(branch.code))
    return render(request, "crisis/office/settings.html", {"form": form, "branch": branch})
