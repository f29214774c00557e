"""The member's ballot: the list of votes, the ballot, the review step and the receipt,
on the member's phone or, for assisted voting, on an officer's device (assembly.kiosk).

Every voting page is no-store: a ballot or a receipt must not stay in a shared phone's
cache. The receipt is rendered in the response to the final POST, never redirected to,
so the code is in no URL, no session and no log.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from union.models import Member
from votes import receipts, selectors
from votes.forms import BallotForm, ballot_data, ordinal
from votes.models import BallotChannel, Vote, VoteKind, VoteStatus
from votes.services import casting

# The session key of an assisted ballot: the officer's device holds one member's ballot.
KIOSK_KEY = "vote_kiosk"


def _member(request: HttpRequest) -> Member:
    member = getattr(request.user, "member", None)
    if member is None:
        raise Http404
    return member


def ballot_lines(vote: Vote, choices: list[int]) -> list[tuple[str, str]]:
    """(place or mark, label) lines that show a ballot back to the voter."""
    names = {o.number: o.label for o in vote.options.all()}
    if vote.kind == VoteKind.MOTION:
        words = {1: _("For"), 2: _("Against"), 3: _("Abstain")}
        return [("", str(words[c])) for c in choices]
    if vote.kind == VoteKind.ELECTION:
        return [(ordinal(i), names[c]) for i, c in enumerate(choices, start=1)]
    return [("", names[c]) for c in choices]


def ballot_steps(
    request: HttpRequest, vote: Vote, member: Member, *, officer: Any = None, kiosk: bool = False
) -> HttpResponse:
    """The ballot, the review step and the receipt, for one member on this device."""
    # Loaded once for the request: the ballot form, its checks and the review read them.
    selectors.load_options(vote)
    context: dict[str, Any] = {"vote": vote, "voter": member, "kiosk": kiosk}
    step = request.POST.get("step", "") if request.method == "POST" else ""
    if step == "change":
        form = BallotForm(_decoded(request, vote), vote=vote)
        form.is_valid()
        form = BallotForm(initial=form.data, vote=vote) if form.is_valid() else form
        return render(request, "votes/ballot.html", {**context, "form": form})
    if step == "cast":
        form = BallotForm(_decoded(request, vote), vote=vote)
        if form.is_valid():
            try:
                code = casting.cast_ballot(
                    vote=vote,
                    member=member,
                    choices=form.cleaned_data["parsed"],
                    channel=BallotChannel.ASSISTED if kiosk else BallotChannel.ONLINE,
                    officer=officer,
                )
            except ValidationError as exc:
                if kiosk:
                    request.session.pop(KIOSK_KEY, None)
                return render(
                    request, "votes/not_recorded.html", {**context, "errors": exc.messages}
                )
            if kiosk:
                request.session.pop(KIOSK_KEY, None)
            return render(
                request,
                "votes/receipt.html",
                {**context, "code": receipts.display(code)},
            )
        return render(request, "votes/ballot.html", {**context, "form": form})
    if step == "review":
        form = BallotForm(request.POST, vote=vote)
        if form.is_valid():
            choices = form.cleaned_data["parsed"]
            return render(
                request,
                "votes/review.html",
                {
                    **context,
                    "lines": ballot_lines(vote, choices),
                    "hidden": ",".join(map(str, choices)),
                },
            )
        return render(request, "votes/ballot.html", {**context, "form": form})
    return render(request, "votes/ballot.html", {**context, "form": BallotForm(vote=vote)})


def _decoded(request: HttpRequest, vote: Vote) -> dict[str, Any]:
    """The review page carries the choices as "3,1,2"; rebuild the form data from it."""
    raw = request.POST.get("choices", "")
    try:
        choices = [int(x) for x in raw.split(",") if x.strip()]
    except ValueError:
        choices = [-1]  # tampered: fails validation like any other unknown choice
    if not choices and vote.kind == VoteKind.APPROVAL:
        return {}
    try:
        return ballot_data(vote, choices) if choices else {}
    except IndexError:
        return {}


# --- members --------------------------------------------------------------------------


@never_cache
@login_required
def vote_list(request: HttpRequest) -> HttpResponse:
    member = _member(request)
    votes = list(selectors.votes_for_member(member).order_by("-closes_at")[:100])
    now = timezone.now()
    open_votes = [v for v in votes if v.status == VoteStatus.OPEN and v.closes_at > now]
    upcoming = [v for v in votes if v.status == VoteStatus.SCHEDULED]
    finished = [v for v in votes if v not in open_votes and v not in upcoming]
    return render(
        request,
        "votes/list.html",
        {
            "open_votes": open_votes,
            "upcoming": upcoming,
            "finished": finished,
            "key_sheets": list(selectors.key_sheets_for(member)[:20]),
        },
    )


@never_cache
@login_required
def vote_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    member = _member(request)
    vote = selectors.visible_vote(member, public_id)
    if vote is None:
        raise Http404
    now = timezone.now()
    is_open = vote.status == VoteStatus.OPEN and vote.opens_at <= now < vote.closes_at
    if is_open and vote.on_roll and not vote.voted:  # type: ignore[attr-defined]
        return ballot_steps(request, vote, member)
    if request.method == "POST":
        # A second tap, another device, a replay, or a vote that closed meanwhile.
        reason = (
            _("You have already voted in this vote. Your vote was counted once.")
            if vote.voted  # type: ignore[attr-defined]
            else _("This vote is not open to you. Nothing was recorded.")
        )
        return render(request, "votes/not_recorded.html", {"vote": vote, "errors": [reason]})
    return render(request, "votes/detail.html", {"vote": vote, "is_open": is_open})
