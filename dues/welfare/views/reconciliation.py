"""The daily reconciliation's screens: what did not match, for the treasurer and the
auditor; importing the operator's statement and checking a day again (the treasurer)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from dues import money
from dues import selectors as dues_selectors
from dues.welfare import selectors
from dues.welfare.forms import ExplainForm, ReconcileForm, StatementForm
from dues.welfare.services import reconciliation
from dues.welfare.statements import ReconciliationItem
from union.forms import add_service_errors
from union.pagination import paginate
from union.permissions import Perm
from union.views.guards import OfficeRequest, office_view


def _branch_choices(request: OfficeRequest) -> list[tuple[str, str]]:
    return [(b.code, b.name) for b in dues_selectors.branches_for(request.user, Perm.PAY_WELFARE)]


def _page(request: OfficeRequest, status: int = 200, **forms: object) -> HttpResponse:
    user = request.user
    choices = _branch_choices(request)
    context: dict[str, object] = {
        "page": paginate(
            selectors.open_items_for(user),
            sort="oldest",
            allowed={"oldest": "id"},
            cursor=request.GET.get("cursor"),
            size=settings.OFFICE_PAGE_SIZE,
        ),
        "runs": list(selectors.reconciliations_for(user)[:14]),
        "explain_form": ExplainForm(),
    }
    if choices:  # the treasurer's forms
        yesterday = money.local_today(settings.TIME_ZONE) - timedelta(days=1)
        context["statement_form"] = forms.get("statement_form") or StatementForm(branches=choices)
        context["reconcile_form"] = forms.get("reconcile_form") or ReconcileForm(
            branches=choices, initial={"day": yesterday}
        )
    return render(request, "dues/welfare/office/reconciliation.html", context, status=status)


@office_view(Perm.PAY_WELFARE, Perm.EXPORT_LEDGER)
def queue(request: OfficeRequest) -> HttpResponse:
    return _page(request)


def _branch(request: OfficeRequest, code: str) -> object:
    branch = dues_selectors.branches_for(request.user, Perm.PAY_WELFARE).filter(code=code).first()
    if branch is None:
        raise Http404
    return branch


@require_POST
@office_view(Perm.PAY_WELFARE)
def statement(request: OfficeRequest) -> HttpResponse:
    form = StatementForm(request.POST, request.FILES, branches=_branch_choices(request))
    if form.is_valid():
        branch = _branch(request, form.cleaned_data["branch"])
        data, name = form.cleaned_data["statement"]
        try:
            lines = reconciliation.parse_statement(data, name, branch.currency)  # type: ignore[attr-defined]
            result = reconciliation.import_statement(
                actor=request.user,
                branch=branch,  # type: ignore[arg-type]
                provider=form.cleaned_data["provider"],
                lines=lines,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(imported)s, %(known)s; the days are checked again.")
                % {
                    "imported": ngettext(
                        "%(count)s line imported", "%(count)s lines imported", result.created
                    )
                    % {"count": result.created},
                    "known": ngettext(
                        "%(count)s already known", "%(count)s already known", result.repeated
                    )
                    % {"count": result.repeated},
                },
            )
            return redirect("dues:welfare_reconciliation")
    return _page(request, status=400, statement_form=form)


@require_POST
@office_view(Perm.PAY_WELFARE)
def run(request: OfficeRequest) -> HttpResponse:
    form = ReconcileForm(request.POST, branches=_branch_choices(request))
    if form.is_valid():
        branch = _branch(request, form.cleaned_data["branch"])
        try:
            reconciliation.reconcile_again(
                actor=request.user,
                branch=branch,  # type: ignore[arg-type]
                day=form.cleaned_data["day"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The day is checked."))
            return redirect("dues:welfare_reconciliation")
    return _page(request, status=400, reconcile_form=form)


@require_POST
@office_view(Perm.PAY_WELFARE, Perm.EXPORT_LEDGER)
def explain(request: OfficeRequest, pk: int) -> HttpResponse:
    item = (
        ReconciliationItem.objects.select_related("reconciliation")
        .filter(pk=pk, reconciliation__branch__in=selectors.reconciliation_branches(request.user))
        .first()
    )
    if item is None:
        raise Http404
    form = ExplainForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why this line is right."))
        return redirect("dues:welfare_reconciliation")
    try:
        reconciliation.explain_item(
            actor=request.user, item=item, explanation=form.cleaned_data["explanation"]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The explanation is recorded."))
    return redirect("dues:welfare_reconciliation")
