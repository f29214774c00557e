"""SMS backends behind one small interface. SMS_BACKEND names the one in use."""

from __future__ import annotations

import json
import uuid
from functools import cache
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string


class SmsError(Exception):
    """The provider refused or failed. The message is a provider code, never content."""


class BaseSmsBackend:
    def send(self, *, to: str, body: str) -> str:
        """Send one message to an E.164 number; return the provider's message reference."""
        raise NotImplementedError


class FileSmsBackend(BaseSmsBackend):
    """The embedded default: each message becomes a JSON file in SMS_FILE_PATH (var/sms/).

    The folder lies beside the database and is as private as it is.
    """

    def send(self, *, to: str, body: str) -> str:
        folder = Path(settings.SMS_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        ref = uuid.uuid4().hex
        path = folder / f"{timezone.now():%Y%m%dT%H%M%S}-{ref}.json"
        path.write_text(json.dumps({"to": to, "body": body}, ensure_ascii=False))
        path.chmod(0o600)
        return ref


class LocmemSmsBackend(BaseSmsBackend):
    """Keeps messages in memory (LocmemSmsBackend.outbox), for tests, like Django's email one."""

    outbox: list[dict[str, str]] = []

    def send(self, *, to: str, body: str) -> str:
        ref = uuid.uuid4().hex
        type(self).outbox.append({"to": to, "body": body, "ref": ref})
        return ref


class AfricasTalkingSmsBackend(BaseSmsBackend):
    """Africa's Talking, through its official SDK. Only the number and the text leave."""

    def __init__(self) -> None:
        import africastalking

        africastalking.initialize(settings.AFRICASTALKING_USERNAME, settings.AFRICASTALKING_API_KEY)
        self.service = africastalking.SMS

    def send(self, *, to: str, body: str) -> str:
        sender = settings.SMS_SENDER_ID or None
        try:
            response = self.service.send(body, [to], sender_id=sender)
        except Exception as exc:  # the SDK raises bare Exceptions for HTTP errors
            raise SmsError(type(exc).__name__) from exc
        if isinstance(response, str):
            # The SDK returns the raw text unless the content type is exactly
            # "application/json"; a "; charset=utf-8" must not make a sent message look failed.
            try:
                response = json.loads(response)
            except ValueError as exc:
                raise SmsError("unreadable-response") from exc
        data = response.get("SMSMessageData", {}) if isinstance(response, dict) else {}
        recipients = data.get("Recipients", [])
        if not recipients:
            # Then "Message" holds the provider's reason (InvalidSenderId, ...), never content.
            raise SmsError(str(data.get("Message") or "no-recipients")[:100])
        first = recipients[0]
        if first.get("status") != "Success":
            raise SmsError(str(first.get("status", "unknown"))[:100])
        return str(first.get("messageId", ""))


@cache
def _backend(path: str) -> BaseSmsBackend:
    return import_string(path)()


def get_backend() -> BaseSmsBackend:
    return _backend(settings.SMS_BACKEND)
