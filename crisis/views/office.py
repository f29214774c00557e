"""The crisis team's screens: the dashboard, logging a call-out, a call-out with its
timeline and notes, answering, closing, merging."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crisis import selectors
from crisis.audit import CrisisAction
from crisis.forms import CalloutForm, CloseForm, NoteForm, ShareForm
from crisis.models import CalloutStatus, DispatchRole, DispatchState, ShareRecord, Urgency
from crisis.services import answers, callouts, sharing
from crisis.services.common import target
from crisis.views.common import callout_in_scope, chosen_branch
from union import permissions
from union.forms import add_service_errors
from union.permissions import Perm
from union.services.audit import record_access
from union.views.guards import OfficeRequest, office_view

# Reports a safety alert may come from: a violent client, the police.
ALERT_SOURCES = ("client_violence", "police_violence", "raid", "arrest")
# Reports that become legal cases: arrests and rights violations.
CASE_SOURCES = (
    "arrest",
    "raid",
    "police_violence",
    "client_violence",
    "partner_violence",
    "eviction",
)


@office_view(Perm.VIEW_CALLOUTS)
def dashboard(request: OfficeRequest) -> HttpResponse:
    user = request.user
    branch = chosen_branch(request)
    open_now = list(selectors.open_callouts(user, branch))
    taken = selectors.accepted_by(open_now)
    now = timezone.now()
    groups = []
    for urgency in Urgency:
        rows = [
            {"callout": c, "taken": taken.get(c.pk), "age": now - c.reported_at}
            for c in open_now
            if c.urgency == urgency
        ]
        groups.append({"urgency": urgency, "rows": rows})
    context: dict[str, Any] = {
        "branch": branch,
        "branches": selectors.branches_for(user),
        "groups": groups,
        "count": len(open_now),
        "unanswered": sum(1 for c in open_now if c.unanswered_at),
        "mine": selectors.waiting_for(user),
        "finished": list(selectors.recently_finished(user, branch)[:10]),
        "now": now,
        "zone": branch.time_zone if branch else "UTC",
        "can": {
            "log": permissions.has_perm(user, Perm.LOG_CALLOUT),
            "coordinate": permissions.has_perm(user, Perm.COORDINATE_CRISIS),
        },
    }
    return render(request, "crisis/office/dashboard.html", context)


@office_view(Perm.LOG_CALLOUT)
def log_callout(request: OfficeRequest) -> HttpResponse:
    branches = selectors.branches_for(request.user, Perm.LOG_CALLOUT)
    form = CalloutForm(request.POST or None, branches=branches)
    if request.method == "POST" and form.is_valid():
        try:
            callout = callouts.log_callout(
                actor=request.user,
                branch=form.cleaned_data["branch"],
                details=form.details(),
                source=form.cleaned_data["source"],
                member_number=form.cleaned_data["member_number"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if callout.status == CalloutStatus.DISPATCHED:
                messages.success(
                    request,
                    _("Call-out %(code)s logged; the responder on duty has been alerted.")
                    % {"code": callout.code},
                )
            else:
                messages.warning(
                    request,
                    _("Call-out %(code)s logged, but nobody on duty can be alerted.")
                    % {"code": callout.code},
                )
            return redirect("crisis:detail", callout.public_id)
    return render(request, "crisis/office/log.html", {"form": form})


@office_view(Perm.VIEW_CALLOUTS)
def callout_detail(request: OfficeRequest, public_id: Any) -> HttpResponse:
    user = request.user
    callout = callout_in_scope(request, public_id, Perm.VIEW_CALLOUTS)
    record_access(
        actor=user, action=CrisisAction.VIEW, target=target(callout), branch=callout.branch
    )
    branch_id = callout.branch_id
    can = {
        "respond": permissions.has_perm(user, Perm.RESPOND_CALLOUT, branch_id),
        "coordinate": permissions.has_perm(user, Perm.COORDINATE_CRISIS, branch_id),
        # Bail, medical care, a funeral: the welfare fund, applied for on the member's behalf.
        "welfare": permissions.has_perm(user, Perm.APPLY_WELFARE_FOR_MEMBER, branch_id),
    }
    sent = selectors.dispatches(callout)
    accepted = next((d for d in sent if d.state == DispatchState.ACCEPTED), None)
    mine = selectors.my_dispatch(user, callout)
    context: dict[str, Any] = {
        "callout": callout,
        "timeline": selectors.timeline(callout),
        "notes": selectors.notes(callout),
        "dispatches": sent,
        "accepted": accepted,
        "mine": mine,
        "mine_accepted": accepted is not None and mine is not None and accepted.pk == mine.pk,
        "is_open": callout.is_open,
        "can": can,
        "note_form": NoteForm(),
        "close_form": CloseForm(),
        "share_form": ShareForm(),
        "merged": selectors.merged_into_this(callout),
        "duplicates": selectors.possible_duplicates(user, callout) if can["coordinate"] else [],
        "alert_kinds": ALERT_SOURCES,
        "case_kinds": CASE_SOURCES,
    }
    return render(request, "crisis/office/detail.html", context)


ANSWER_MESSAGES = {
    answers.Result.ACCEPTED: gettext_lazy("It is yours. Tap “I have arrived” when you are there."),
    answers.Result.DECLINED: gettext_lazy("Noted: the next person is alerted."),
    answers.Result.MOVED_ON: gettext_lazy("Noted. It had already gone to the next person."),
    answers.Result.ARRIVED: gettext_lazy("Noted: you are there."),
    answers.Result.DONE: gettext_lazy("Marked done. A coordinator closes it with the outcome."),
}


@require_POST
@office_view(Perm.RESPOND_CALLOUT)
def answer(request: OfficeRequest, public_id: Any) -> HttpResponse:
    callout = callout_in_scope(request, public_id, Perm.RESPOND_CALLOUT)
    try:
        choice = answers.Answer(request.POST.get("answer", ""))
    except ValueError:
        raise Http404 from None
    try:
        answered = answers.answer_on_web(actor=request.user, callout=callout, answer=choice)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("crisis:detail", callout.public_id)
    if answered.acted:
        messages.success(request, str(ANSWER_MESSAGES[answered.result]))
    else:
        messages.warning(request, _stale_message(answered))
    return redirect("crisis:detail", callout.public_id)


def _stale_message(answered: answers.Answered) -> str:
    if answered.result == answers.Result.TAKEN:
        role = dict(DispatchRole.choices).get(answered.role, "")
        return _("Already taken by the %(role)s: nothing changed.") % {"role": role}
    texts = {
        answers.Result.CLOSED: _("This call-out is already closed: nothing changed."),
        answers.Result.MERGED: _("This call-out was merged into another: nothing changed."),
        answers.Result.NOT_YOURS: _("This alert was not sent to you: nothing changed."),
        answers.Result.DUPLICATE: _("You already answered that."),
        answers.Result.NOT_NOW: _("You are already there: mark it done when it is over."),
    }
    return str(texts[answered.result])


@require_POST
@office_view(Perm.RESPOND_CALLOUT)
def add_note(request: OfficeRequest, public_id: Any) -> HttpResponse:
    callout = callout_in_scope(request, public_id, Perm.RESPOND_CALLOUT)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            callouts.add_note(actor=request.user, callout=callout, text=form.cleaned_data["text"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Note added."))
    else:
        messages.error(request, _("Write the note first."))
    return redirect("crisis:detail", callout.public_id)


@require_POST
@office_view(Perm.COORDINATE_CRISIS)
def close(request: OfficeRequest, public_id: Any) -> HttpResponse:
    callout = callout_in_scope(request, public_id, Perm.COORDINATE_CRISIS)
    form = CloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose the outcome."))
        return redirect("crisis:detail", callout.public_id)
    try:
        callouts.close_callout(
            actor=request.user, callout=callout, outcome=form.cleaned_data["outcome"]
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Call-out closed."))
    return redirect("crisis:detail", callout.public_id)


@require_POST
@office_view(Perm.COORDINATE_CRISIS)
def merge(request: OfficeRequest, public_id: Any) -> HttpResponse:
    """Merge the call-out named in the form (a duplicate) into this one."""
    survivor = callout_in_scope(request, public_id, Perm.COORDINATE_CRISIS)
    duplicate = selectors.callout_for(
        request.user, request.POST.get("duplicate", ""), Perm.COORDINATE_CRISIS
    )
    if duplicate is None or duplicate.pk == survivor.pk:
        messages.error(request, _("Choose the duplicate call-out to merge into this one."))
        return redirect("crisis:detail", survivor.public_id)
    try:
        callouts.merge_callouts(actor=request.user, duplicate=duplicate, into=survivor)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("Call-out %(duplicate)s merged into this one. You can undo it below.")
            % {"duplicate": duplicate.code},
        )
    return redirect("crisis:detail", survivor.public_id)


@require_POST
@office_view(Perm.COORDINATE_CRISIS)
def unmerge(request: OfficeRequest, public_id: Any) -> HttpResponse:
    callout = callout_in_scope(request, public_id, Perm.COORDINATE_CRISIS)
    try:
        callouts.unmerge_callout(actor=request.user, callout=callout)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The merge is undone."))
    return redirect("crisis:detail", callout.public_id)


@require_POST
@office_view(Perm.COORDINATE_CRISIS)
def share(request: OfficeRequest, public_id: Any) -> HttpResponse:
    callout = callout_in_scope(request, public_id, Perm.COORDINATE_CRISIS)
    form = ShareForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose who it is shared with."))
        return redirect("crisis:detail", callout.public_id)
    try:
        record = sharing.share_report(
            actor=request.user,
            callout=callout,
            recipient_kind=form.cleaned_data["recipient_kind"],
            recipient=form.cleaned_data["recipient"],
            consent=form.cleaned_data["consent"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("crisis:detail", callout.public_id)
    return redirect("crisis:share_summary", record.public_id)


@office_view(Perm.COORDINATE_CRISIS)
def share_summary(request: OfficeRequest, public_id: Any) -> HttpResponse:
    record = (
        ShareRecord.objects.select_related("callout__branch")
        .filter(
            public_id=public_id,
            callout__in=selectors.callouts_for(request.user, Perm.COORDINATE_CRISIS),
        )
        .first()
    )
    if record is None:
        raise Http404
    record_access(
        actor=request.user,
        action=CrisisAction.SHARE,
        target=target(record.callout),
        branch=record.callout.branch,
    )
    return render(
        request,
        "crisis/office/share_summary.html",
        {"record": record, "summary": sharing.shared_summary(record)},
    )
