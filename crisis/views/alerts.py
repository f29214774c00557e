"""Safety alerts: the crisis team drafts, a coordinator reviews and publishes, members
read the current ones of their branch."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from crisis import selectors
from crisis.forms import AlertForm, ReviewForm
from crisis.models import SafetyAlert
from crisis.services import alerts
from crisis.views.common import one_branch
from union import permissions
from union.forms import add_service_errors
from union.models import Member, MemberStatus
from union.permissions import Perm
from union.views.guards import OfficeRequest, office_view


def _alert_in_scope(request: OfficeRequest, public_id: Any) -> SafetyAlert:
    alert = selectors.alerts_for(request.user).filter(public_id=public_id).first()
    if alert is None:
        raise Http404
    return alert


@office_view(Perm.RESPOND_CALLOUT)
def office_alerts(request: OfficeRequest) -> HttpResponse:
    found = list(selectors.alerts_for(request.user)[:50])
    return render(request, "crisis/office/alerts.html", {"alerts": found})


@office_view(Perm.RESPOND_CALLOUT)
def alert_new(request: OfficeRequest) -> HttpResponse:
    branch = one_branch(request, Perm.RESPOND_CALLOUT)
    callout = None
    if request.GET.get("callout"):
        callout = selectors.callout_for(request.user, request.GET["callout"], Perm.RESPOND_CALLOUT)
        if callout is None:
            raise Http404
        branch = callout.branch
    form = AlertForm(request.POST or None, languages=branch.languages or [branch.main_language])
    if request.method == "POST" and form.is_valid():
        try:
            alert = alerts.draft_alert(
                actor=request.user,
                branch=branch,
                kind=form.cleaned_data["kind"],
                texts=form.texts(),
                days=form.cleaned_data["days"],
                callout=callout,
                from_outreach=form.cleaned_data["from_outreach"],
                consent_recorded=form.cleaned_data["consent_recorded"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("Draft saved. A coordinator reviews it before it goes out.")
            )
            return redirect("crisis:alert_detail", alert.public_id)
    return render(
        request,
        "crisis/office/alert_form.html",
        {"form": form, "branch": branch, "callout": callout},
    )


@office_view(Perm.RESPOND_CALLOUT)
def alert_detail(request: OfficeRequest, public_id: Any) -> HttpResponse:
    alert = _alert_in_scope(request, public_id)
    context = {
        "alert": alert,
        "texts": list(alert.texts.all()),
        "review_form": ReviewForm(),
        "can_publish": permissions.has_perm(request.user, Perm.COORDINATE_CRISIS, alert.branch_id),
        "recipients": len(alerts.recipients(alert.branch)),
    }
    return render(request, "crisis/office/alert_detail.html", context)


@require_POST
@office_view(Perm.COORDINATE_CRISIS)
def alert_publish(request: OfficeRequest, public_id: Any) -> HttpResponse:
    alert = _alert_in_scope(request, public_id)
    form = ReviewForm(request.POST)
    criteria = set(form.cleaned_data["criteria"]) if form.is_valid() else set()
    try:
        sent = alerts.publish_alert(actor=request.user, alert=alert, criteria=criteria)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            ngettext(
                "Published and sent to %(n)s member.", "Published and sent to %(n)s members.", sent
            )
            % {"n": sent},
        )
    return redirect("crisis:alert_detail", alert.public_id)


@require_POST
@office_view(Perm.COORDINATE_CRISIS)
def alert_withdraw(request: OfficeRequest, public_id: Any) -> HttpResponse:
    alert = _alert_in_scope(request, public_id)
    alerts.withdraw_alert(actor=request.user, alert=alert)
    messages.success(request, _("Withdrawn: members no longer see it."))
    return redirect("crisis:alert_detail", alert.public_id)


@never_cache
@login_required
def member_alerts(request: OfficeRequest) -> HttpResponse:
    member = (
        Member.objects.filter(
            user=request.user, status__in=(MemberStatus.ACTIVE, MemberStatus.LAPSED)
        )
        .select_related("branch")
        .first()
    )
    if member is None:
        return render(request, "account/no_member.html")
    language = translation.get_language() or member.preferred_language
    current = [
        {"alert": a, "text": selectors.alert_text(a, language)}
        for a in selectors.current_alerts(member)
    ]
    return render(request, "crisis/alerts.html", {"alerts": current, "branch": member.branch})
