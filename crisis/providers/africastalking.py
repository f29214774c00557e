"""Africa's Talking callbacks. It does not sign them, so the callback address carries a
secret (CRISIS_SMS_INBOUND_SECRET) that the view compares in constant time.

Incoming messages are posted form-encoded: from, to, text, date, id, linkId.
Delivery reports: id, status (Success, Sent, Buffered, Rejected, Failed), phoneNumber,
networkCode, failureReason, retryCount.
"""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import QueryDict

from crisis.providers import DeliveryStatus, Inbound

NAME = "africastalking"
FAILED = frozenset({"Rejected", "Failed", "AbsentSubscriber", "Expired"})


def secret_matches(given: str) -> bool:
    expected = settings.CRISIS_SMS_INBOUND_SECRET
    # An unset secret accepts nothing; compare_digest takes the same time for any guess.
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def read_inbound(data: QueryDict) -> Inbound | None:
    message_id, phone = data.get("id", ""), data.get("from", "")
    if not message_id or not phone or len(message_id) > 100:
        return None
    return Inbound(provider=NAME, message_id=message_id, phone=phone, text=data.get("text", ""))


def read_delivery(data: QueryDict) -> DeliveryStatus | None:
    message_id, status = data.get("id", ""), data.get("status", "")
    if not message_id or not status or len(message_id) > 100:
        return None
    return DeliveryStatus(
        provider=NAME, message_id=message_id, status=status[:32], failed=status in FAILED
    )
