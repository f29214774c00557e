"""Stripe's webhook. Verify, store once, answer; the booking happens in a task."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from dues import providers
from dues.services import card


@csrf_exempt  # Stripe cannot hold a CSRF token; the signature authenticates the request
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    provider = providers.stripe()
    if not provider.available():
        # No secret to check a signature against: nothing can be accepted.
        return HttpResponseBadRequest()
    try:
        event = provider.verify(request.body, request.headers.get("Stripe-Signature", ""))
    except ValueError:
        # Unsigned, tampered with, or too old: nothing is written.
        return HttpResponseBadRequest()
    if not isinstance(event.get("id"), str) or not isinstance(event.get("data"), dict):
        return HttpResponseBadRequest()
    card.receive_event(event)
    return HttpResponse(status=200)
