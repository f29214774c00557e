"""The SMS provider's callbacks: replies from responders and delivery reports.

Checked first (the secret in the address, or Twilio's signature), then handled once per
provider message id. Answers are short and say nothing: the provider only needs a 200.
A refusal is a plain 403, also when nothing is configured (a 404 would be redirected to a
language prefix by the public site's catch-all).
"""

from __future__ import annotations

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
)
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from crisis.providers import africastalking, twilio
from crisis.services import replies

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


@csrf_exempt  # the provider cannot hold a CSRF token; the secret authenticates the request
@require_POST
def africastalking_inbound(request: HttpRequest, secret: str) -> HttpResponse:
    if not africastalking.secret_matches(secret):
        return HttpResponseForbidden()
    inbound = africastalking.read_inbound(request.POST)
    if inbound is None:
        return HttpResponseBadRequest()
    replies.receive_reply(inbound)
    return HttpResponse(status=200)


@csrf_exempt
@require_POST
def africastalking_delivery(request: HttpRequest, secret: str) -> HttpResponse:
    if not africastalking.secret_matches(secret):
        return HttpResponseForbidden()
    status = africastalking.read_delivery(request.POST)
    if status is None:
        return HttpResponseBadRequest()
    replies.receive_delivery(status)
    return HttpResponse(status=200)


def _twilio_verified(request: HttpRequest) -> bool:
    token = settings.TWILIO_AUTH_TOKEN
    params = {key: request.POST.getlist(key) for key in request.POST}
    return twilio.verify(
        request.build_absolute_uri(),
        params,
        request.headers.get("X-Twilio-Signature", ""),
        token,
    )


@csrf_exempt  # Twilio signs the request instead
@require_POST
def twilio_inbound(request: HttpRequest) -> HttpResponse:
    if not _twilio_verified(request):
        return HttpResponseForbidden()
    inbound = twilio.read_inbound(request.POST)
    if inbound is None:
        return HttpResponseBadRequest()
    replies.receive_reply(inbound)
    return HttpResponse(EMPTY_TWIML, content_type="text/xml")


@csrf_exempt
@require_POST
def twilio_status(request: HttpRequest) -> HttpResponse:
    if not _twilio_verified(request):
        return HttpResponseForbidden()
    status = twilio.read_status(request.POST)
    if status is None:
        return HttpResponseBadRequest()
    replies.receive_delivery(status)
    return HttpResponse(status=204)
