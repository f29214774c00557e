"""A member's own report to the crisis team, the status of what she reported, her cases."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from crisis import selectors
from crisis.forms import ReportForm
from crisis.services import callouts
from union.forms import add_service_errors
from union.models import Member, MemberStatus
from union.views.guards import OfficeRequest


def _reporting_member(request: OfficeRequest) -> Member | None:
    return (
        Member.objects.filter(
            user=request.user, status__in=(MemberStatus.ACTIVE, MemberStatus.LAPSED)
        )
        .select_related("branch")
        .first()
    )


@never_cache
@login_required
def report(request: OfficeRequest) -> HttpResponse:
    member = _reporting_member(request)
    if member is None:
        return render(request, "account/no_member.html")
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            callouts.report_callout(
                actor=request.user,
                details=form.details(),
                for_self=form.cleaned_data["who"] == "me",
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Thank you. The crisis team has been alerted."))
            return redirect("crisis:my_reports")
    return render(request, "crisis/report.html", {"form": form, "member": member})


@never_cache
@login_required
def my_reports(request: OfficeRequest) -> HttpResponse:
    member = _reporting_member(request)
    if member is None:
        return render(request, "account/no_member.html")
    reports = list(selectors.my_reports(request.user)[:20])
    cases = list(selectors.my_cases(request.user)[:20])
    return render(request, "crisis/my_reports.html", {"reports": reports, "cases": cases})
