"""A published vote: its result and count, every ballot with its receipt fingerprint, the
BLT and CSV downloads, and the returning officer's confirmation of elected roles.
"""

from __future__ import annotations

import csv
import uuid
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from votes import presentation, receipts, results, selectors
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
    elected = [names[n] for n in result.get("elected", [])]
    return render(
        request,
        "votes/results.html",
        {
            "vote": vote,
            "result": result,
            "count": count,
            "stages": presentation.stages(count, names) if count else [],
            "change_header": presentation.change_header(),
            "elected": elected,
            "elected_sentence": presentation.elected_sentence(elected),
            "totals": [
                (words.get(row["number"], row["label"]), presentation.number(row["votes"]))
                for row in result.get("totals", [])
            ],
            "may_confirm_roles": vote.role
            and vote.roles_confirmed_at is None
            and result.get("valid")
            and getattr(request.user, "member", None) == vote.returning_officer,
        },
    )


# Each lookup of a receipt costs a slow hash: a member gets a few an hour, enough for
# typing slips, far too few to search for codes (about 2^59 of them).
LOOKUPS_PER_HOUR = 10


def _may_look_up(request: HttpRequest, vote: Vote) -> bool:
    """Counts the member's lookups in this vote over the hour. The cache key names the
    member and the vote, never a code."""
    key = f"votes:receipt-lookups:{vote.pk}:{request.user.pk}"
    cache.add(key, 0, timeout=3600)
    try:
        tries = cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, timeout=3600)
        tries = 1
    return tries <= LOOKUPS_PER_HOUR


def _ballot_box_for(request: HttpRequest, public_id: str) -> Vote:
    """A vote whose list of ballots the user may read: once published, or from its
    opening for a sealed vote (then the list shows sealed ballots, nothing readable)."""
    member = getattr(request.user, "member", None)
    vote = selectors.visible_vote(member, public_id) if member is not None else None
    if vote is None:
        vote = selectors.manageable_votes(request.user).filter(public_id=public_id).first()
    if vote is None or vote.status in (
        VoteStatus.DRAFT,
        VoteStatus.SCHEDULED,
        VoteStatus.CANCELLED,
    ):
        raise Http404
    if vote.status != VoteStatus.PUBLISHED and not vote.is_sealed:
        raise Http404
    return vote


def _find(request: HttpRequest, vote: Vote, form: ReceiptForm) -> dict[str, Any] | None:
    code = form.cleaned_data["code"]
    if receipts.has_look_alikes(code):
        form.add_error(
            "code", _("Receipt codes never use 0, O, 1, I or L. Check the code you copied.")
        )
        return None
    if not receipts.is_well_formed(code):
        form.add_error("code", _("A receipt code has 12 letters and digits, in three groups."))
        return None
    if not _may_look_up(request, vote):
        form.add_error(
            "code", _("Too many receipts looked up from your account. Try again in an hour.")
        )
        return None
    found = selectors.find_receipt(vote, code)
    if found is None:
        form.add_error("code", _("No ballot has this receipt. Check the code you copied."))
        return None
    return {
        "fingerprint": found.fingerprint,
        "sealed": found.choices is None,
        "lines": ballot_lines(vote, found.choices) if found.choices is not None else [],
    }


@never_cache
@login_required
def vote_ballots(request: HttpRequest, public_id: str) -> HttpResponse:
    """Every ballot, so voters can check theirs and anyone can recount: sealed while the
    vote is open and until the count (a fingerprint each), opened once it is published.
    Keyset pages in an order that has nothing to do with time: the receipt hash, or the
    sealed ballot's random key."""
    vote = _ballot_box_for(request, public_id)
    published = vote.status == VoteStatus.PUBLISHED
    selectors.load_options(vote)
    form = ReceiptForm(request.POST or None)
    found = _find(request, vote, form) if request.method == "POST" and form.is_valid() else None
    after = request.GET.get("after", "")
    rows: list[dict[str, Any]] = []
    next_after = ""
    if published:
        qs = selectors.published_ballots(vote)
        if after:
            qs = qs.filter(receipt_hash__gt=after)
        page = list(qs[: BALLOTS_PAGE + 1])
        rows = [
            {
                "fingerprint": receipts.fingerprint(b.receipt_hash),
                "lines": ballot_lines(vote, b.choices),
            }
            for b in page[:BALLOTS_PAGE]
        ]
        next_after = page[BALLOTS_PAGE - 1].receipt_hash if len(page) > BALLOTS_PAGE else ""
    else:
        sealed = selectors.sealed_ballots(vote)
        if after:
            try:
                sealed = sealed.filter(pk__gt=uuid.UUID(after))
            except ValueError:
                raise Http404 from None
        box = list(sealed.values_list("id", "sealed")[: BALLOTS_PAGE + 1])
        rows = [
            {"fingerprint": receipts.box_fingerprint(bytes(s))} for _pk, s in box[:BALLOTS_PAGE]
        ]
        next_after = str(box[BALLOTS_PAGE - 1][0]) if len(box) > BALLOTS_PAGE else ""
    return render(
        request,
        "votes/ballots.html",
        {
            "vote": vote,
            "published": published,
            "rows": rows,
            "form": form,
            "found": found,
            "next_after": next_after,
            "salt": bytes(vote.receipt_salt).hex() if vote.receipt_salt else "",
            "scrypt": {"n": receipts.SCRYPT_N, "r": receipts.SCRYPT_R, "p": receipts.SCRYPT_P},
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
    writer.writerow(["receipt_hash" if vote.is_sealed else "receipt_sha256", "choices"])
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
        messages.success(
            request,
            ngettext("%(n)s role assigned.", "%(n)s roles assigned.", len(made)) % {"n": len(made)},
        )
    return redirect("votes:results", public_id=vote.public_id)
