"""Inbound SMS providers: each turns a provider's callback into an `Inbound` message,
after checking that the provider sent it. Sending stays in union.notifications.sms."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Inbound:
    """A reply as received. Lives only for the request: neither the number nor the text
    is stored or logged."""

    provider: str
    message_id: str
    phone: str
    text: str


@dataclass(frozen=True)
class DeliveryStatus:
    provider: str
    message_id: str
    status: str
    failed: bool
