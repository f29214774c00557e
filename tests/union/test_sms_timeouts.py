"""A message the provider accepted is never sent again.

The case that doubled texts elsewhere (PagerDuty, Grafana OnCall users): the provider takes
the message, its answer is lost (a read time-out, a dropped connection, a 5xx), the worker
retries, the phone gets two texts. Here such a send becomes UNCERTAIN, is never retried
blindly, and is settled by asking the provider. The providers' HTTP layer is stubbed with
`responses`, with the payloads Twilio and Africa's Talking really send.
"""

from __future__ import annotations

import json
from datetime import timedelta
from email.utils import format_datetime
from urllib.parse import parse_qs

import pytest
import requests
import responses
import time_machine
from django.utils import timezone

from tests.factories import MemberFactory
from union.models import Member, Notification, NotificationStatus
from union.notifications.services import deliver, due_for_resend, reconcile
from union.notifications.sms import LocmemSmsBackend, SmsError, TwilioSmsBackend
from union.services.members import approve_applicant
from union.tasks import send_notification, sweep_notifications

PHONE = "+22376123456"
ACCOUNT = "AC0123456789abcdef0123456789abcdef"
TWILIO_URL = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
AT_URL = "https://api.africastalking.com/version1/messaging"


@pytest.fixture
def sms_applicant(bamako) -> Member:
    return MemberFactory(
        branch=bamako,
        applicant=True,
        contact_preference="sms",
        consent_sms=True,
        phone=PHONE,
        preferred_language="en",
    )


class Twilio:
    """The provider's side: what it accepted, whether the answer reaches us."""

    def __init__(self, mocked: responses.RequestsMock) -> None:
        self.accepted: list[dict[str, str]] = []
        self.answer_lost = False  # accept, then let the answer time out
        self.refuse_before_accepting = False
        self.fail: tuple[int, str] | Exception | None = None  # the next answer, once
        mocked.add_callback(responses.POST, TWILIO_URL, callback=self.create)
        mocked.add_callback(responses.GET, TWILIO_URL, callback=self.list)

    def create(self, request):  # type: ignore[no-untyped-def]
        form = {k: v[0] for k, v in parse_qs(request.body).items()}
        if self.fail is not None:
            fail, self.fail = self.fail, None
            if isinstance(fail, Exception):
                raise fail
            return fail[0], {"Content-Type": "application/json"}, fail[1]
        if self.refuse_before_accepting:
            self.refuse_before_accepting = False
            raise requests.ReadTimeout("read timed out")  # lost before Twilio took it
        now = timezone.now()
        message = {
            "account_sid": ACCOUNT,
            "api_version": "2010-04-01",
            "body": form["Body"],
            "date_created": format_datetime(now),
            "date_sent": None,
            "date_updated": format_datetime(now),
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_media": "0",
            "num_segments": "1",
            "price": None,
            "price_unit": "USD",
            "sid": f"SM{len(self.accepted):032x}",
            "status": "queued",
            "to": form["To"],
            "uri": f"/2010-04-01/Accounts/{ACCOUNT}/Messages/SM{len(self.accepted):032x}.json",
        }
        self.accepted.append(message)
        if self.answer_lost:
            self.answer_lost = False
            raise requests.ReadTimeout("read timed out")
        return 201, {"Content-Type": "application/json"}, _dumps(message)

    def list(self, request):  # type: ignore[no-untyped-def]
        to = request.params.get("To")
        messages = [m for m in reversed(self.accepted) if m["to"] == to]
        page = {
            "end": len(messages) - 1,
            "first_page_uri": f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json?PageSize=50&Page=0",
            "messages": messages,
            "next_page_uri": None,
            "page": 0,
            "page_size": 50,
            "previous_page_uri": None,
            "start": 0,
            "uri": f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json?PageSize=50&Page=0",
        }
        return 200, {"Content-Type": "application/json"}, _dumps(page)


def _dumps(value: object) -> str:
    return json.dumps(value)


@pytest.fixture
def twilio(settings):
    settings.SMS_BACKEND = "union.notifications.sms.TwilioSmsBackend"
    settings.TWILIO_ACCOUNT_SID = ACCOUNT
    settings.TWILIO_AUTH_TOKEN = "0123456789abcdef0123456789abcdef"
    settings.SMS_SENDER_ID = "+15005550006"
    settings.TWILIO_STATUS_CALLBACK = "https://union.example/crisis/sms/twilio/status/"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        yield Twilio(mocked)


def _welcome(secretary: Member, applicant: Member) -> Notification:
    """The approval's welcome text, committed and not yet sent (its task is ours to run)."""
    member = approve_applicant(actor=secretary.user, member=applicant, create_login=False).member
    return Notification.objects.get(member=member, kind="welcome")


def _later(minutes: int) -> time_machine.travel:
    return time_machine.travel(timezone.now() + timedelta(minutes=minutes), tick=False)


def test_a_provider_time_out_after_acceptance_sends_one_sms(
    twilio, secretary, sms_applicant, django_capture_on_commit_callbacks
):
    note = _welcome(secretary, sms_applicant)
    twilio.answer_lost = True
    assert send_notification(note.pk) is False  # no exception: Celery does not retry it
    note.refresh_from_db()
    assert note.status == NotificationStatus.UNCERTAIN
    for minutes in (2, 3, 15, 60):  # the sweeper, minute after minute
        with _later(minutes), django_capture_on_commit_callbacks(execute=True):
            sweep_notifications()
    assert len(twilio.accepted) == 1
    note.refresh_from_db()
    assert note.status == NotificationStatus.SENT
    assert note.provider_ref == twilio.accepted[0]["sid"]  # delivery reports find it


def test_a_time_out_before_the_provider_took_it_is_sent_again_once(
    twilio, secretary, sms_applicant, django_capture_on_commit_callbacks
):
    note = _welcome(secretary, sms_applicant)
    twilio.refuse_before_accepting = True
    assert deliver(note.pk) is False
    with _later(2), django_capture_on_commit_callbacks(execute=True):
        assert sweep_notifications() == 1  # Twilio has no such message: sent again
    with _later(3), django_capture_on_commit_callbacks(execute=True):
        assert sweep_notifications() == 0
    assert len(twilio.accepted) == 1
    note.refresh_from_db()
    assert (note.status, note.provider_ref) == (NotificationStatus.SENT, "SM" + "0" * 32)


def test_twilio_gets_the_number_the_text_and_the_status_address(twilio, secretary, sms_applicant):
    note = _welcome(secretary, sms_applicant)
    assert deliver(note.pk) is True
    (message,) = twilio.accepted
    assert (message["to"], message["from"]) == (PHONE, "+15005550006")
    assert message["body"].startswith("Welcome.")


def test_a_refusal_from_twilio_is_retried_and_keeps_only_the_code(twilio, secretary, sms_applicant):
    twilio_refusal = {
        "code": 21211,
        "message": f"The 'To' number {PHONE} is not a valid phone number.",
        "more_info": "https://www.twilio.com/docs/errors/21211",
        "status": 400,
    }
    note = _welcome(secretary, sms_applicant)
    twilio.fail = (400, _dumps(twilio_refusal))
    with pytest.raises(SmsError):
        deliver(note.pk)
    note.refresh_from_db()
    assert (note.status, note.last_error) == (NotificationStatus.PENDING, "twilio-21211")


def test_a_server_error_from_twilio_is_not_resent_before_asking(twilio, secretary, sms_applicant):
    note = _welcome(secretary, sms_applicant)
    twilio.fail = (500, "<html>Internal error</html>")
    assert deliver(note.pk) is False
    note.refresh_from_db()
    assert (note.status, note.last_error) == (NotificationStatus.UNCERTAIN, "http-500")


def test_no_connection_at_all_is_retried(twilio, secretary, sms_applicant):
    note = _welcome(secretary, sms_applicant)
    twilio.fail = requests.ConnectTimeout("connect timed out")
    with pytest.raises(SmsError):
        deliver(note.pk)
    note.refresh_from_db()
    assert note.status == NotificationStatus.PENDING
    assert deliver(note.pk) is True
    assert len(twilio.accepted) == 1


def test_an_africastalking_time_out_is_never_resent(settings, secretary, sms_applicant):
    """Africa's Talking cannot be asked what it accepted: the text stays uncertain (the
    crisis escalation covers an alert that never arrived) rather than go twice."""
    settings.SMS_BACKEND = "union.notifications.sms.AfricasTalkingSmsBackend"
    settings.AFRICASTALKING_USERNAME = "danaya-so"
    settings.AFRICASTALKING_API_KEY = "atsk_0123456789abcdef"
    note = _welcome(secretary, sms_applicant)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as at:
        at.post(AT_URL, body=requests.ReadTimeout("read timed out"))
        assert send_notification(note.pk) is False
        for minutes in (2, 30, 120):
            with _later(minutes):
                assert sweep_notifications() == 0
        assert len(at.calls) == 1
    note.refresh_from_db()
    assert note.status == NotificationStatus.UNCERTAIN


def test_a_worker_that_died_after_handing_over_the_text_does_not_double_it(
    secretary, sms_applicant
):
    note = _welcome(secretary, sms_applicant)
    assert deliver(note.pk) is True
    # As if the worker died between the provider's answer and writing it down.
    Notification.objects.filter(pk=note.pk).update(
        status=NotificationStatus.SENDING, claimed_at=timezone.now(), provider_ref=""
    )
    with _later(11):
        assert due_for_resend() == []
        assert reconcile(note.pk) == "sent"
        sweep_notifications()
    assert len(LocmemSmsBackend.outbox) == 1
    note.refresh_from_db()
    assert note.status == NotificationStatus.SENT
    assert note.provider_ref == LocmemSmsBackend.outbox[0]["ref"]


def test_reconciling_twice_at_once_settles_once(twilio, secretary, sms_applicant):
    note = _welcome(secretary, sms_applicant)
    twilio.answer_lost = True
    deliver(note.pk)
    with _later(2):
        assert reconcile(note.pk) == "sent"
        assert reconcile(note.pk) == ""  # no longer uncertain: nothing to do
    assert len(twilio.accepted) == 1


def test_the_twilio_backend_is_the_one_configured(twilio):
    from union.notifications.sms import get_backend

    assert isinstance(get_backend(), TwilioSmsBackend)
