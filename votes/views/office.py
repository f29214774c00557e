"""Running votes from the office: the list, a new vote, a draft's choices, scheduling,
cancelling and recounting, and who voted (never how).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from union import permissions
from union.models import Branch, Member
from union.permissions import Perm
from union.views.guards import OfficeRequest, office_view
from votes import results, selectors
from votes.audit import VoteAction
from votes.forms import OptionForm, TellerForm, VoteForm
from votes.models import Vote, VoteStatus
from votes.services import counting, drafting, tellers
from votes.services.common import record_vote_access


def _manageable(request: OfficeRequest, public_id: str) -> Vote:
    return get_object_or_404(selectors.manageable_votes(request.user), public_id=public_id)


def _vote_branches(user: Any) -> Any:
    scope = permissions.scope_for(user, Perm.MANAGE_VOTES)
    return Branch.objects.all() if scope.everywhere else scope.branches()


@office_view(Perm.MANAGE_VOTES, Perm.RUN_ASSEMBLY)
def office_votes(request: OfficeRequest) -> HttpResponse:
    user = request.user
    return render(
        request,
        "votes/office_list.html",
        {
            "votes": selectors.manageable_votes(user).order_by("-opens_at")[:200],
            "assembly": selectors.assembly_votes(user).order_by("closes_at")[:50],
            "can_manage": permissions.has_perm(user, Perm.MANAGE_VOTES),
        },
    )


@office_view(Perm.MANAGE_VOTES)
def office_vote_new(request: OfficeRequest) -> HttpResponse:
    now = timezone.localtime().replace(second=0, microsecond=0)
    form = VoteForm(
        request.POST or None,
        branches=_vote_branches(request.user),
        initial={"opens_at": now + timedelta(hours=1), "closes_at": now + timedelta(days=7)},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            vote = drafting.create_vote(
                actor=request.user,
                spec=drafting.VoteSpec(
                    kind=data["kind"],
                    title=data["title"],
                    text=data["text"],
                    branch=data["branch"],
                    opens_at=data["opens_at"],
                    closes_at=data["closes_at"],
                    seats=data["seats"],
                    threshold=data["threshold"],
                    quorum_percent=data["quorum_percent"],
                    role=data["role"],
                    term_starts_on=data["term_starts_on"],
                    term_ends_on=data["term_ends_on"],
                    shares_needed=data["shares_needed"],
                ),
            )
        except ValidationError as exc:
            from union.forms import add_service_errors

            add_service_errors(form, exc)
        except PermissionDenied:
            form.add_error("branch", _("You cannot run a vote for this branch."))
        else:
            return redirect("votes:office_detail", public_id=vote.public_id)
    return render(request, "votes/office_form.html", {"form": form})


@office_view(Perm.MANAGE_VOTES)
def office_vote_detail(request: OfficeRequest, public_id: str) -> HttpResponse:
    vote = _manageable(request, public_id)
    option_form = (
        OptionForm(request.POST if request.POST.get("action") == "add_option" else None)
        if vote.status == VoteStatus.DRAFT
        else None
    )
    before_opening = vote.status in tellers.BEFORE_OPENING
    teller_form = TellerForm(request.POST if request.POST.get("action") == "add_teller" else None)
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "add_teller" and before_opening and teller_form.is_valid():
                number = teller_form.cleaned_data["member_number"].strip().upper()
                person = Member.objects.filter(number=number).select_related("branch").first()
                if person is None:
                    raise ValidationError(_("No member with this number."))
                tellers.add_teller(actor=request.user, vote=vote, member=person)
                return redirect("votes:office_detail", public_id=vote.public_id)
            if action in ("remove_teller", "reset_sheet"):
                teller = get_object_or_404(vote.tellers, number=request.POST.get("number"))
                if action == "remove_teller":
                    tellers.remove_teller(actor=request.user, teller=teller)
                else:
                    tellers.reset_key_sheet(actor=request.user, teller=teller)
                return redirect("votes:office_detail", public_id=vote.public_id)
            if action == "add_option" and option_form is not None and option_form.is_valid():
                data = option_form.cleaned_data
                drafting.add_option(
                    actor=request.user,
                    vote=vote,
                    label=data["label"],
                    statement=data["statement"],
                    member_number=data["member_number"],
                )
                return redirect("votes:office_detail", public_id=vote.public_id)
            if action == "remove_option":
                option = get_object_or_404(vote.options, number=request.POST.get("number"))
                drafting.remove_option(actor=request.user, option=option)
            elif action == "schedule":
                drafting.schedule_vote(actor=request.user, vote=vote)
                messages.success(request, _("The vote is scheduled."))
            elif action == "cancel":
                drafting.cancel_vote(actor=request.user, vote=vote)
                messages.success(request, _("The vote is cancelled."))
            elif action == "recount":
                counting.recount_vote(actor=request.user, vote=vote)
            if action not in ("add_option", "add_teller"):
                return redirect("votes:office_detail", public_id=vote.public_id)
        except ValidationError as exc:
            if action == "add_teller":
                teller_form.add_error("member_number", exc)
            else:
                messages.error(request, " ".join(exc.messages))
            if action not in ("add_option", "add_teller"):
                return redirect("votes:office_detail", public_id=vote.public_id)
    vote.refresh_from_db()
    tellers_here = list(selectors.tellers_of(request.user, vote))
    return render(
        request,
        "votes/office_detail.html",
        {
            "vote": vote,
            "options": vote.options.select_related("member"),
            "option_form": option_form,
            "tellers": tellers_here,
            "teller_form": teller_form if before_opening else None,
            "tellers_waiting": tellers.tellers_ready(vote, tellers_here) if before_opening else [],
            "embedded": connection.vendor == "sqlite",
            "turnout": vote.marks.count(),
            "tallies": vote.tallies.select_related("branch"),
            "held_problems": [results.describe_problem(p) for p in vote.held_problems],
        },
    )


@office_view(Perm.MANAGE_VOTES)
def office_vote_voters(request: OfficeRequest, public_id: str) -> HttpResponse:
    """Who voted, and how they voted in the sense of channel and time. Never their choice."""
    vote = _manageable(request, public_id)
    marks = selectors.marks_for(request.user, vote).order_by("member__number")[:5000]
    record_vote_access(actor=request.user, action=VoteAction.VIEW_MARKS, vote=vote, rows=len(marks))
    return render(request, "votes/office_voters.html", {"vote": vote, "marks": marks})
