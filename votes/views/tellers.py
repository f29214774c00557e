"""The tellers' screens: each teller makes and confirms their key sheet on their own
screen before the vote opens, and at the count the tellers type their sheets into the
returning officer's screen to open the ballot box.

The sheet is rendered in the response to the POST that makes it, never redirected to: the
words are in no URL, no session, no log, and the page is no-store. Printing the page
prints the sheet only (the site's print styles hide forms and navigation).
"""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from union.forms import add_service_errors
from union.permissions import Perm
from union.views.guards import OfficeRequest, needs_second_factor, office_view
from votes import sealing, selectors
from votes.forms import KeySheetWordsForm, OpenBoxForm
from votes.models import Teller, Vote, VoteStatus
from votes.services import tellers, unsealing


def _own_teller(request: HttpRequest, public_id: str) -> Teller:
    member = getattr(request.user, "member", None)
    if member is None:
        raise Http404
    return get_object_or_404(
        Teller.objects.select_related("vote", "vote__branch"),
        vote__public_id=public_id,
        member=member,
    )


def _qr_data_uri(text: str) -> str:
    svg = segno.make(text, error="m").svg_inline(scale=3)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


@never_cache
@login_required
def key_sheet(request: HttpRequest, public_id: str) -> HttpResponse:
    """A teller's own key sheet: made once and shown once, then confirmed by typing it.
    A teller who holds an office passes the second factor first, as for the office."""
    teller = _own_teller(request, public_id)
    if needs_second_factor(request):
        query = urlencode({"next": request.get_full_path()})
        return redirect(f"{reverse('union:two_factor')}?{query}")
    vote = teller.vote
    form = KeySheetWordsForm(request.POST if request.POST.get("action") == "confirm" else None)
    before_opening = vote.status in tellers.BEFORE_OPENING
    if request.method == "POST" and before_opening:
        try:
            if request.POST.get("action") == "make":
                sheet = tellers.make_key_sheet(actor=request.user, vote=vote)  # type: ignore[arg-type]
                words = sheet.words(sealing.sheet_language(get_language() or "en"))
                return render(
                    request,
                    "votes/key_sheet_print.html",
                    {
                        "vote": vote,
                        "teller": teller,
                        "words": words,
                        "qr": _qr_data_uri(" ".join(words)),
                        "tellers": vote.tellers.count(),
                        "form": KeySheetWordsForm(),
                    },
                )
            if form.is_valid():
                tellers.confirm_key_sheet(
                    actor=request.user,  # type: ignore[arg-type]
                    vote=vote,
                    words=form.cleaned_data["words"],
                )
                messages.success(
                    request, _("Your key sheet is confirmed. Keep it safe until the count.")
                )
                return redirect("votes:key_sheet", public_id=vote.public_id)
        except ValidationError as exc:
            add_service_errors(form, exc)
        teller.refresh_from_db()
    return render(
        request,
        "votes/key_sheet.html",
        {"vote": vote, "teller": teller, "form": form, "before_opening": before_opening},
    )


@never_cache
@office_view(Perm.MANAGE_VOTES)
def office_open_box(request: OfficeRequest, public_id: str) -> HttpResponse:
    """At the count: the tellers type their sheets, the box opens and the vote is counted."""
    vote: Vote = get_object_or_404(selectors.manageable_votes(request.user), public_id=public_id)
    if vote.status != VoteStatus.TELLERS:
        return redirect("votes:office_detail", public_id=vote.public_id)
    tellers_here = list(selectors.tellers_of(request.user, vote))
    form = OpenBoxForm(request.POST or None, tellers=tellers_here)
    if request.method == "POST" and form.is_valid():
        try:
            status = unsealing.open_ballot_box(actor=request.user, vote=vote, sheets=form.sheets())
        except ValidationError as exc:
            # The form comes back empty: on a shared screen, nobody's words are shown again.
            form = OpenBoxForm({name: "" for name in form.fields}, tellers=tellers_here)
            form.is_valid()
            add_service_errors(form, exc)
        else:
            if status == VoteStatus.PUBLISHED:
                messages.success(request, _("The ballot box is open and the vote is counted."))
            else:
                messages.error(
                    request,
                    _("The ballot box is open, but the count does not add up: it is held back."),
                )
            return redirect("votes:office_detail", public_id=vote.public_id)
    return render(
        request,
        "votes/office_open_box.html",
        {
            "vote": vote,
            "form": form,
            "tellers": tellers_here,
            "embedded": connection.vendor == "sqlite",
        },
    )


def secrecy(request: HttpRequest) -> HttpResponse:
    """How a vote stays secret: what the server can and cannot know, who holds the key."""
    return render(request, "votes/secrecy.html", {"embedded": connection.vendor == "sqlite"})
