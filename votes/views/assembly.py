"""An assembly: officers check members in to vote on paper or on the officer's device
(the kiosk, one ballot for one member), and two officers enter each branch's paper count.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from union import permissions
from union.models import Member
from union.permissions import Perm
from union.views.guards import OfficeRequest, office_view
from votes import selectors
from votes.forms import CheckInForm, TallyForm
from votes.models import BallotChannel, Vote, VoteStatus
from votes.services import assembly
from votes.views.ballot import KIOSK_KEY, ballot_steps

KIOSK_MINUTES = 15


def _kiosk_pass(request: OfficeRequest) -> tuple[Vote, Member] | None:
    data = request.session.get(KIOSK_KEY)
    if not data or data.get("officer") != request.user.pk:
        return None
    if timezone.now().timestamp() > data.get("expires", 0):
        request.session.pop(KIOSK_KEY, None)
        return None
    vote = selectors.assembly_votes(request.user).filter(public_id=data["vote"]).first()
    member = Member.objects.filter(pk=data["member"]).first()
    if vote is None or member is None:
        return None
    return vote, member


@never_cache
@office_view(Perm.RUN_ASSEMBLY)
def kiosk(request: OfficeRequest) -> HttpResponse:
    """One ballot for one checked-in member on the officer's device. The officer's pages
    stay out of reach until the member submits or gives up; the choices are shown to the
    member only and are gone once the receipt is on screen."""
    held = _kiosk_pass(request)
    if held is None:
        return render(request, "votes/kiosk_done.html", {})
    vote, member = held
    if request.method == "POST" and request.POST.get("step") == "give_up":
        request.session.pop(KIOSK_KEY, None)
        return redirect("votes:office_assembly", public_id=vote.public_id)
    return ballot_steps(request, vote, member, officer=request.user, kiosk=True)


@office_view(Perm.RUN_ASSEMBLY)
def office_assembly(request: OfficeRequest, public_id: str) -> HttpResponse:
    """Check members in at an assembly, and enter the branch's paper ballot count."""
    vote = get_object_or_404(selectors.assembly_votes(request.user), public_id=public_id)
    scope = permissions.scope_for(request.user, Perm.RUN_ASSEMBLY)
    branches = (
        scope.branches() if vote.branch.is_national else scope.branches().filter(pk=vote.branch_id)
    )
    check_in = CheckInForm(request.POST if request.POST.get("action") == "check_in" else None)
    tally = TallyForm(
        request.POST if request.POST.get("action") == "tally" else None,
        vote=vote,
        branches=branches,
    )
    if request.method == "POST" and check_in.is_bound and check_in.is_valid():
        channel = check_in.cleaned_data["channel"]
        try:
            member = assembly.check_in(
                actor=request.user,
                vote=vote,
                number=check_in.cleaned_data["number"],
                channel=channel,
            )
        except ValidationError as exc:
            check_in.add_error("number", exc)
        else:
            if channel == BallotChannel.PAPER:
                messages.success(
                    request, _("%(name)s may take a paper ballot.") % {"name": member.working_name}
                )
                return redirect("votes:office_assembly", public_id=vote.public_id)
            request.session[KIOSK_KEY] = {
                "vote": str(vote.public_id),
                "member": member.pk,
                "officer": request.user.pk,
                "expires": (timezone.now() + timedelta(minutes=KIOSK_MINUTES)).timestamp(),
            }
            return redirect("votes:kiosk")
    if request.method == "POST" and tally.is_bound and tally.is_valid():
        try:
            outcome = assembly.enter_tally(
                actor=request.user,
                vote=vote,
                branch=tally.cleaned_data["branch"],
                ballots=tally.cleaned_data["ballots"],
                counts=tally.counts(),
            )
        except ValidationError as exc:
            tally.add_error(None, exc)
        except PermissionDenied:
            tally.add_error("branch", _("You cannot enter this branch's count."))
        else:
            if outcome.confirmed:
                messages.success(
                    request, _("Both counts agree: the paper ballots join the result.")
                )
            elif outcome.differs:
                messages.error(
                    request,
                    _("Your numbers differ from the other officer's. Count again, both of you."),
                )
            else:
                messages.success(
                    request, _("Saved. A second officer must now enter the same numbers.")
                )
            return redirect("votes:office_assembly", public_id=vote.public_id)
    return render(
        request,
        "votes/office_assembly.html",
        {
            "vote": vote,
            "check_in": check_in,
            "tally": tally,
            "kiosk_url": reverse("votes:kiosk"),
            "is_open": vote.status == VoteStatus.OPEN,
            "progress": selectors.tally_progress(request.user, vote, branches),
            # Once every branch here is confirmed there is nothing left to enter.
            "show_tally_form": tally.is_bound
            or branches.exclude(pk__in=vote.tallies.values("branch_id")).exists(),
        },
    )
