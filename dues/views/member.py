"""A member's own dues: balance, months, receipts, a printable statement, paying by card."""

from __future__ import annotations

from csp.decorators import csp_update
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from dues import selectors
from dues.forms import CardPaymentForm
from dues.models import (
    CardSubscription,
    CheckoutPurpose,
    EntryKind,
    LedgerEntry,
    SubscriptionStatus,
)
from dues.services import card
from union import permissions
from union.models import Member
from union.permissions import Perm
from union.views.guards import needs_second_factor

STRIPE_CHECKOUT = "https://checkout.stripe.com"


def _own_member(request: HttpRequest) -> Member | None:
    if not request.user.is_authenticated:
        return None
    return Member.objects.filter(user=request.user).select_related("branch").first()


@never_cache
@login_required
@csp_update({"form-action": STRIPE_CHECKOUT})  # the card form redirects to Stripe's page
def my_dues(request: HttpRequest) -> HttpResponse:
    member = _own_member(request)
    if member is None:
        return render(request, "account/no_member.html")
    card_on = card.card_enabled()
    subscription = CardSubscription.objects.filter(
        account__member=member, status=SubscriptionStatus.ACTIVE
    ).first()
    position = selectors.position(member)
    context = {
        "member": member,
        "position": position,
        "summary": position.summary,
        "receipts": list(selectors.receipts(member)[:12]),
        "card_on": card_on,
        "card_form": CardPaymentForm() if card_on else None,
        "subscription": subscription,
        "paid": request.GET.get("paid") == "1",
    }
    return render(request, "dues/my_dues.html", context)


@never_cache
@login_required
def statement(request: HttpRequest) -> HttpResponse:
    member = _own_member(request)
    if member is None:
        return render(request, "account/no_member.html")
    return render(
        request,
        "dues/statement.html",
        {
            "member": member,
            "position": (position := selectors.position(member)),
            "summary": position.summary,
            "entries": list(selectors.statement(member)),
        },
    )


@require_POST
@login_required
def pay_by_card(request: HttpRequest) -> HttpResponse:
    if not card.card_enabled():
        messages.error(request, _("Card payments are not available."))
        return redirect("dues:my")
    form = CardPaymentForm(request.POST)
    purpose = request.POST.get("purpose")
    if purpose == CheckoutPurpose.SUBSCRIPTION:
        months = 1
    elif form.is_valid():
        purpose, months = form.cleaned_data["purpose"], form.cleaned_data["months"]
    else:
        messages.error(request, _("Choose what to pay and for how many months (1 to 12)."))
        return redirect("dues:my")
    done = request.build_absolute_uri(reverse("dues:my")) + "?paid=1"
    try:
        checkout = card.start_checkout(
            actor=request.user,  # type: ignore[arg-type]
            purpose=str(purpose),
            months=int(months),
            success_url=done,
            cancel_url=request.build_absolute_uri(reverse("dues:my")),
            locale=translation.get_language() or "en",
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("dues:my")
    return HttpResponseRedirect(checkout.url)


@require_POST
@login_required
def cancel_subscription(request: HttpRequest) -> HttpResponse:
    if not card.card_enabled():
        messages.error(request, _("Card payments are not available."))
        return redirect("dues:my")
    try:
        ended = card.cancel_subscription(actor=request.user)  # type: ignore[arg-type]
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if ended is not None:
            messages.success(request, _("Your monthly card payment is stopped."))
    return redirect("dues:my")


@never_cache
@login_required
def receipt(request: HttpRequest, public_id: str) -> HttpResponse:
    """One payment's receipt, in the member's language: to the member, or to an officer of
    the branch (who prints it for them)."""
    entry = (
        LedgerEntry.objects.filter(public_id=public_id, kind=EntryKind.PAYMENT)
        .select_related("member__branch", "confirmation", "reversed_by", "recorded_by__member")
        .first()
    )
    if entry is None:
        raise Http404
    own = entry.member.user_id == request.user.pk
    if not own:
        if not permissions.has_perm(request.user, Perm.VIEW_LEDGER, entry.branch_id):
            raise Http404
        if needs_second_factor(request):
            return redirect(f"{reverse('union:two_factor')}?next={request.get_full_path()}")
    member = entry.member
    counts = not entry.needs_confirmation or hasattr(entry, "confirmation")
    context = {
        "entry": entry,
        "member": member,
        "counts": counts,
        "own": own,
        "can_confirm": not own
        and not counts
        and not hasattr(entry, "reversed_by")
        and entry.recorded_by_id != request.user.pk
        and permissions.has_perm(request.user, Perm.CONFIRM_PAYMENT, entry.branch_id),
    }
    with translation.override(member.preferred_language):
        response = render(request, "dues/receipt.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response
