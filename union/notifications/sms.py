"""SMS backends behind one small interface. SMS_BACKEND names the one in use."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import cache
from pathlib import Path
from typing import Any

import requests
from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string
from urllib3.exceptions import NewConnectionError


class SmsError(Exception):
    """The provider refused, or could not be reached: nothing was sent, a retry is safe.
    The message is a provider code, never content."""


class SmsUncertain(Exception):
    """The request may have reached the provider but its answer was lost (a time-out
    while waiting for it, a dropped connection, a server error): the message may have
    been accepted, so it must not be sent again before the provider is asked."""


class BaseSmsBackend:
    # Whether find() can ask the provider what it accepted.
    can_find = False

    def send(self, *, to: str, body: str) -> str:
        """Send one message to an E.164 number; return the provider's message reference.
        Raises SmsError when nothing was sent, SmsUncertain when it cannot be known."""
        raise NotImplementedError

    def find(self, *, to: str, body: str, since: datetime) -> str | None:
        """The reference of a message to `to` with this `body` that the provider accepted
        since `since`, or None when it has none. SmsUncertain when it cannot tell."""
        raise SmsUncertain("no-lookup")


def _classify(exc: requests.RequestException) -> Exception:
    """A request that never left (no connection) was not sent; one that left and got
    no answer may have been."""
    if isinstance(exc, requests.ConnectTimeout):
        return SmsError("connect-timeout")
    if isinstance(exc, requests.ConnectionError) and not isinstance(exc, requests.ReadTimeout):
        reason = exc.args[0] if exc.args else None
        if isinstance(getattr(reason, "reason", None), NewConnectionError):
            return SmsError("no-connection")
    return SmsUncertain(type(exc).__name__)


class FileSmsBackend(BaseSmsBackend):
    """The embedded default: each message becomes a JSON file in SMS_FILE_PATH (var/sms/).

    The folder lies beside the database and is as private as it is.
    """

    can_find = True

    def find(self, *, to: str, body: str, since: datetime) -> str | None:
        folder = Path(settings.SMS_FILE_PATH)
        start = f"{since - timedelta(minutes=1):%Y%m%dT%H%M%S}"
        for path in sorted(folder.glob("*.json")) if folder.exists() else []:
            if path.name >= start and json.loads(path.read_text()) == {"to": to, "body": body}:
                return path.stem.split("-", 1)[1]
        return None

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
    can_find = True

    def send(self, *, to: str, body: str) -> str:
        ref = uuid.uuid4().hex
        type(self).outbox.append({"to": to, "body": body, "ref": ref})
        return ref

    def find(self, *, to: str, body: str, since: datetime) -> str | None:
        for sms in type(self).outbox:
            if (sms["to"], sms["body"]) == (to, body):
                return sms["ref"]
        return None


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
        except requests.RequestException as exc:
            raise _classify(exc) from exc
        except Exception as exc:  # the SDK raises bare Exceptions for HTTP error answers
            # An answer came (the provider's refusal); its text may echo the number.
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


class TwilioSmsBackend(BaseSmsBackend):
    """Twilio's Messages API over HTTPS (form-encoded POST, JSON answers), with basic auth
    under the account SID and auth token. Only the number and the text leave."""

    can_find = True
    API = "https://api.twilio.com/2010-04-01/Accounts/{sid}/Messages.json"
    TIMEOUT = (3.05, 10)  # seconds: connecting, then waiting for the answer

    def __init__(self) -> None:
        self.url = self.API.format(sid=settings.TWILIO_ACCOUNT_SID)
        self.auth = (settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN)

    def send(self, *, to: str, body: str) -> str:
        data = {"To": to, "Body": body}
        if settings.TWILIO_MESSAGING_SERVICE_SID:
            data["MessagingServiceSid"] = settings.TWILIO_MESSAGING_SERVICE_SID
        else:
            data["From"] = settings.SMS_SENDER_ID
        if settings.TWILIO_STATUS_CALLBACK:
            data["StatusCallback"] = settings.TWILIO_STATUS_CALLBACK
        try:
            response = requests.post(self.url, data=data, auth=self.auth, timeout=self.TIMEOUT)
        except requests.RequestException as exc:
            raise _classify(exc) from exc
        if response.status_code >= 500:
            # Twilio: a 5xx on a message POST may still have sent it.
            raise SmsUncertain(f"http-{response.status_code}")
        answer = _json(response)
        if response.status_code >= 400:
            # {"code": 21211, "message": "...", "status": 400}: the code says why.
            raise SmsError(f"twilio-{answer.get('code', response.status_code)}"[:100])
        sid = str(answer.get("sid", ""))
        if not sid:
            raise SmsUncertain("no-sid")
        return sid

    def find(self, *, to: str, body: str, since: datetime) -> str | None:
        # Newest first. Not filtered on DateSent: a message still queued has none yet.
        params = {"To": to, "PageSize": "50"}
        try:
            response = requests.get(self.url, params=params, auth=self.auth, timeout=self.TIMEOUT)
        except requests.RequestException as exc:
            raise SmsUncertain(type(exc).__name__) from exc
        if response.status_code != 200:
            raise SmsUncertain(f"http-{response.status_code}")
        for message in _json(response).get("messages", []):
            # "date_created": "Sun, 06 Dec 2026 11:02:03 +0000" (RFC 2822)
            if not message.get("date_created") or not message.get("sid"):
                continue
            created = parsedate_to_datetime(message["date_created"])
            if (
                str(message.get("direction", "")).startswith("outbound")
                and message.get("body") == body
                and created >= since - timedelta(minutes=1)
            ):
                return str(message["sid"])
        return None


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        answer = response.json()
    except ValueError as exc:
        raise SmsUncertain("unreadable-response") from exc
    return answer if isinstance(answer, dict) else {}


@cache
def _backend(path: str) -> BaseSmsBackend:
    return import_string(path)()


def get_backend() -> BaseSmsBackend:
    return _backend(settings.SMS_BACKEND)
