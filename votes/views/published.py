"""A published vote: its result and count, every ballot with its receipt fingerprint, the
BLT and CSV downloads, and the returning officer's confirmation of elected roles.
"""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from votes import receipts, results, selectors
from votes.forms import ReceiptForm
from votes.models import Vote, VoteKind, VoteStatus
from votes.services import counting
from votes.views.ballot import ballot_lines

BALLOTS_PAGE = 100


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
                "lines": ballot_lines(vote, ballot.choices),
            }
    after = request.GET.get("after", "")
    qs = selectors.published_ballots(vote)
    if after:
        qs = qs.filter(receipt_hash__gt=after)
    page = list(qs[: BALLOTS_PAGE + 1])
    more = len(page) > BALLOTS_PAGE
    page = page[:BALLOTS_PAGE]
    rows = [
        {
            "fingerprint": receipts.fingerprint(b.receipt_hash),
            "lines": ballot_lines(vote, b.choices),
        }
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
        made = counting.confirm_elected_roles(actor=request.user, vote=vote)  # type: ignore[arg-type]
    except (PermissionDenied, ValidationError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [_("Not allowed.")])))
    else:
        messages.success(request, _("%(n)s roles assigned.") % {"n": len(made)})
    return redirect("votes:results", public_id=vote.public_id)
