"""Vote screens: members vote on a phone (ballot, review, receipt), officers run votes.

Every voting page is no-store: a ballot or a receipt must not stay in a shared phone's
cache. The receipt is rendered in the response to the final POST, never redirected to,
so the code is in no URL, no session and no log.
"""

from __future__ import annotations

import csv
from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from union import permissions
from union.models import AuditAction, Branch, Member
from union.permissions import Perm
from union.services.audit import record_access
from union.views.guards import OfficeRequest, office_view
from votes import receipts, results, selectors, services
from votes.forms import (
    BallotForm,
    CheckInForm,
    OptionForm,
    ReceiptForm,
    TallyForm,
    VoteForm,
    ballot_data,
    ordinal,
)
from votes.models import (
    BallotChannel,
    Vote,
    VoteKind,
    VoteStatus,
)

KIOSK_KEY = "vote_kiosk"
KIOSK_MINUTES = 15
BALLOTS_PAGE = 100


def _member(request: HttpRequest) -> Member:
    member = getattr(request.user, "member", None)
    if member is None:
        raise Http404
    return member


def _labels(vote: Vote, choices: list[int]) -> list[tuple[str, str]]:
    """(place or mark, label) lines that show a ballot back to the voter."""
    names = {o.number: o.label for o in vote.options.all()}
    if vote.kind == VoteKind.MOTION:
        words = {1: _("For"), 2: _("Against"), 3: _("Abstain")}
        return [("", str(words[c])) for c in choices]
    if vote.kind == VoteKind.ELECTION:
        return [(ordinal(i), names[c]) for i, c in enumerate(choices, start=1)]
    return [("", names[c]) for c in choices]


def _ballot_steps(
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
                code = services.cast_ballot(
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
                {
                    **context,
                    "code": receipts.display(code),
                    "fingerprint": receipts.fingerprint(receipts.receipt_hash(code)),
                },
            )
        return render(request, "votes/ballot.html", {**context, "form": form})
    if step == "review":
        form = BallotForm(request.POST, vote=vote)
        if form.is_valid():
            choices = form.cleaned_data["parsed"]
            return render(
                request,
                "votes/review.html",
                {**context, "lines": _labels(vote, choices), "hidden": ",".join(map(str, choices))},
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
        {"open_votes": open_votes, "upcoming": upcoming, "finished": finished},
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
        return _ballot_steps(request, vote, member)
    if request.method == "POST":
        # A second tap, another device, a replay, or a vote that closed meanwhile.
        reason = (
            _("You have already voted in this vote. Your vote was counted once.")
            if vote.voted  # type: ignore[attr-defined]
            else _("This vote is not open to you. Nothing was recorded.")
        )
        return render(request, "votes/not_recorded.html", {"vote": vote, "errors": [reason]})
    return render(request, "votes/detail.html", {"vote": vote, "is_open": is_open})


def _published_for(request: HttpRequest, public_id: str) -> Vote:
    """A published vote the user may read: members of its scope, or those who run it."""
    member = getattr(request.user, "member", None)
    vote = selectors.visible_vote(member, public_id) if member is not None else None
    if vote is None:
        vote = selectors.manageable_votes(request.user).filter(public_id=public_id).first()
    if vote is None or vote.status != VoteStatus.PUBLISHED:
        raise Http404
    return vote


@never_cache
@login_required
def vote_results(request: HttpRequest, public_id: str) -> HttpResponse:
    vote = _published_for(request, public_id)
    result = vote.result or {}
    count = result.get("count")
    names = {o.number: o.label for o in vote.options.all()}
    words = {1: _("For"), 2: _("Against"), 3: _("Abstain")} if vote.kind == VoteKind.MOTION else {}
    stages = []
    if count:
        for stage in count["stages"]:
            stages.append(
                {
                    **stage,
                    "subject_name": names.get(stage["subject"], ""),
                    "rows": [
                        (names[int(c)], stage["changes"].get(c, ""), total)
                        for c, total in stage["totals"].items()
                    ],
                    "elected_names": [names[c] for c in stage["elected"]],
                    "excluded_names": [names[c] for c in stage["excluded"]],
                }
            )
    return render(
        request,
        "votes/results.html",
        {
            "vote": vote,
            "result": result,
            "count": count,
            "stages": stages,
            "elected": [names[n] for n in result.get("elected", [])],
            "totals": [
                (words.get(row["number"], row["label"]), row["votes"])
                for row in result.get("totals", [])
            ],
            "may_confirm_roles": vote.role
            and vote.roles_confirmed_at is None
            and result.get("valid")
            and getattr(request.user, "member", None) == vote.returning_officer,
        },
    )


@never_cache
@login_required
def vote_ballots(request: HttpRequest, public_id: str) -> HttpResponse:
    """Every ballot with its receipt fingerprint, so voters can check theirs and anyone
    can recount. Keyset pages by receipt hash: random order, nothing to do with time."""
    vote = _published_for(request, public_id)
    found = None
    form = ReceiptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        wanted = receipts.receipt_hash(form.cleaned_data["code"])
        ballot = selectors.published_ballots(vote).filter(receipt_hash=wanted).first()
        if ballot is None:
            form.add_error("code", _("No ballot has this receipt. Check the code you copied."))
        else:
            found = {
                "fingerprint": receipts.fingerprint(ballot.receipt_hash),
                "lines": _labels(vote, ballot.choices),
            }
    after = request.GET.get("after", "")
    qs = selectors.published_ballots(vote)
    if after:
        qs = qs.filter(receipt_hash__gt=after)
    page = list(qs[: BALLOTS_PAGE + 1])
    more = len(page) > BALLOTS_PAGE
    page = page[:BALLOTS_PAGE]
    rows = [
        {"fingerprint": receipts.fingerprint(b.receipt_hash), "lines": _labels(vote, b.choices)}
        for b in page
    ]
    return render(
        request,
        "votes/ballots.html",
        {
            "vote": vote,
            "rows": rows,
            "form": form,
            "found": found,
            "next_after": page[-1].receipt_hash if more and page else "",
        },
    )


@login_required
def vote_blt(request: HttpRequest, public_id: str) -> HttpResponse:
    vote = _published_for(request, public_id)
    if vote.kind != VoteKind.ELECTION:
        raise Http404
    response = HttpResponse(results.blt_for(vote), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="election-{vote.public_id}.blt"'
    return response


@login_required
def vote_receipts_csv(request: HttpRequest, public_id: str) -> HttpResponse:
    """Receipt hash and choices of every electronic ballot (paper tallies are in the result)."""
    vote = _published_for(request, public_id)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="ballots-{vote.public_id}.csv"'
    writer = csv.writer(response)
    writer.writerow(["receipt_sha256", "choices"])
    for ballot in selectors.published_ballots(vote).iterator(chunk_size=5000):
        writer.writerow([ballot.receipt_hash, " ".join(map(str, ballot.choices))])
    return response


@require_POST
@login_required
def vote_confirm_roles(request: HttpRequest, public_id: str) -> HttpResponse:
    vote = _published_for(request, public_id)
    try:
        made = services.confirm_elected_roles(actor=request.user, vote=vote)  # type: ignore[arg-type]
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [_("Not allowed.")])))
    else:
        messages.success(request, _("%(n)s roles assigned.") % {"n": len(made)})
    return redirect("votes:results", public_id=vote.public_id)


# --- assisted voting (kiosk) ----------------------------------------------------------


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
    return _ballot_steps(request, vote, member, officer=request.user, kiosk=True)


# --- office ---------------------------------------------------------------------------


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
            vote = services.create_vote(
                actor=request.user,
                spec=services.VoteSpec(
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
    option_form = OptionForm(request.POST or None) if vote.status == VoteStatus.DRAFT else None
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "add_option" and option_form is not None and option_form.is_valid():
                data = option_form.cleaned_data
                candidate = None
                if data["member_number"]:
                    candidate = Member.objects.filter(number=data["member_number"].upper()).first()
                    if candidate is None:
                        raise ValidationError(_("No member with this number."))
                services.add_option(
                    actor=request.user,
                    vote=vote,
                    label=data["label"],
                    statement=data["statement"],
                    member=candidate,
                )
                return redirect("votes:office_detail", public_id=vote.public_id)
            if action == "remove_option":
                option = get_object_or_404(vote.options, number=request.POST.get("number"))
                services.remove_option(actor=request.user, option=option)
            elif action == "schedule":
                services.schedule_vote(actor=request.user, vote=vote)
                messages.success(request, _("The vote is scheduled."))
            elif action == "cancel":
                services.cancel_vote(actor=request.user, vote=vote)
                messages.success(request, _("The vote is cancelled."))
            elif action == "recount":
                results.recount_vote(actor=request.user, vote=vote)
            if action != "add_option":
                return redirect("votes:office_detail", public_id=vote.public_id)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            if action != "add_option":
                return redirect("votes:office_detail", public_id=vote.public_id)
    vote.refresh_from_db()
    return render(
        request,
        "votes/office_detail.html",
        {
            "vote": vote,
            "options": vote.options.select_related("member"),
            "option_form": option_form,
            "turnout": vote.marks.count(),
            "tallies": vote.tallies.select_related("branch"),
        },
    )


@office_view(Perm.MANAGE_VOTES)
def office_vote_voters(request: OfficeRequest, public_id: str) -> HttpResponse:
    """Who voted, and how they voted in the sense of channel and time. Never their choice."""
    vote = _manageable(request, public_id)
    marks = selectors.marks_for(request.user, vote).order_by("member__number")[:5000]
    record_access(
        actor=request.user,
        action=AuditAction.VOTE_VIEW_MARKS,
        target=f"vote:{vote.public_id}",
        branch=vote.branch,
        rows=len(marks),
    )
    return render(request, "votes/office_voters.html", {"vote": vote, "marks": marks})


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
            member = services.check_in(
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
            outcome = services.enter_tally(
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
