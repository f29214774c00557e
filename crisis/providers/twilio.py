"""Twilio callbacks, signed: X-Twilio-Signature is the Base64 HMAC-SHA1, under the
account's auth token (TWILIO_AUTH_TOKEN), of the full callback URL followed by every POST
parameter's name and value, sorted by name.

Incoming messages: MessageSid, From, To, Body. Status callbacks: MessageSid, MessageStatus
(queued, sent, delivered, undelivered, failed).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit, urlunsplit

from crisis.providers import DeliveryStatus, Inbound

NAME = "twilio"
FAILED = frozenset({"undelivered", "failed"})
_DEFAULT_PORTS = {"https": 443, "http": 80}


def signature(url: str, params: Mapping[str, Sequence[str]], token: str) -> str:
    payload = url + "".join(
        name + value for name in sorted(params) for value in sorted(set(params[name]))
    )
    digest = hmac.new(token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _url_variants(url: str) -> list[str]:
    """Twilio signs the URL as it was configured: with or without the default port."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    plain = urlunsplit(parts._replace(netloc=host))
    port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    with_port = urlunsplit(parts._replace(netloc=f"{host}:{port}")) if port else plain
    return list(dict.fromkeys([url, plain, with_port]))


def verify(url: str, params: Mapping[str, Sequence[str]], given: str, token: str) -> bool:
    if not token or not given:
        return False
    return any(
        hmac.compare_digest(signature(candidate, params, token).encode(), given.encode())
        for candidate in _url_variants(url)
    )


def read_inbound(data: Mapping[str, str]) -> Inbound | None:
    message_id, phone = data.get("MessageSid", ""), data.get("From", "")
    if not message_id or not phone or len(message_id) > 100:
        return None
    return Inbound(provider=NAME, message_id=message_id, phone=phone, text=data.get("Body", ""))


def read_status(data: Mapping[str, str]) -> DeliveryStatus | None:
    message_id, status = data.get("MessageSid", ""), data.get("MessageStatus", "")
    if not message_id or not status:
        return None
    return DeliveryStatus(
        provider=NAME, message_id=message_id, status=status[:32], failed=status in FAILED
    )
