"""Answers by SMS through the provider's webhooks: accepted replies are confirmed, stale
ones say who has it by role, forged and replayed ones change nothing, unknown numbers get
no reply, and nothing of the text or the number reaches the logs."""

from __future__ import annotations

import logging
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from crisis.models import (
    Callout,
    CalloutStatus,
    DeliveryReport,
    Dispatch,
    DispatchRole,
    InboundSms,
    ReplyOutcome,
    ResponderState,
    StepKind,
)
from crisis.providers import twilio
from crisis.services import callouts, upkeep
from crisis.services.dispatch import sweep_escalations
from tests.crisis.conftest import PHONES, log, texts_to
from union.models import Notification
from union.notifications.sms import LocmemSmsBackend

SECRET = "at-callback-secret-0123456789abcdef"
TOKEN = "twilio-auth-token-for-tests"


@pytest.fixture(autouse=True)
def _providers(settings):
    settings.CRISIS_SMS_INBOUND_SECRET = SECRET
    settings.TWILIO_AUTH_TOKEN = TOKEN


@pytest.fixture
def reply(client, django_capture_on_commit_callbacks):
    """Post an Africa's Talking inbound message; returns the response."""
    counter = iter(range(1, 10_000))

    def send(phone: str, text: str, message_id: str | None = None, secret: str = SECRET):
        data = {
            "from": phone,
            "to": "20880",
            "text": text,
            "date": "2026-03-10 09:05:00",
            "id": message_id or f"ATXid_{next(counter)}",
            "linkId": "SampleLinkId123",
        }
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(reverse("crisis:sms_at", args=[secret]), data)

    return send


@pytest.fixture
def callout(rota, coordinator, bamako, django_capture_on_commit_callbacks) -> Callout:
    with django_capture_on_commit_callbacks(execute=True):
        return log(coordinator, bamako)


def test_ok_by_sms_acknowledges_and_is_confirmed(reply, rota, callout):
    response = reply(PHONES["primary"], f"ok {callout.code}")
    assert response.status_code == 200
    callout.refresh_from_db()
    assert callout.status == CalloutStatus.ACKNOWLEDGED
    step = callout.steps.get(kind=StepKind.ACKNOWLEDGED)
    assert (step.member, step.channel, step.role) == (rota["primary"], "sms", "primary")
    confirmation = texts_to(rota["primary"])[-1]
    assert f"call-out {callout.code} is yours" in confirmation
    assert InboundSms.objects.get().outcome == ReplyOutcome.ACCEPTED


def test_arrived_and_done_by_number_shortcuts(reply, rota, callout):
    reply(PHONES["primary"], f"1 {callout.code}")
    reply(PHONES["primary"], f"3 {callout.code}")
    reply(PHONES["primary"], f"{callout.code} 4")
    callout.refresh_from_db()
    assert callout.status == CalloutStatus.RESOLVED
    assert callout.arrived_at is not None and callout.resolved_at is not None


def test_a_replayed_message_changes_nothing_and_sends_nothing(reply, rota, coordinator, callout):
    reply(PHONES["primary"], f"NO {callout.code}", message_id="ATXid_same")
    assert len(texts_to(rota["backup"])) == 1
    sent = len(LocmemSmsBackend.outbox)
    response = reply(PHONES["primary"], f"NO {callout.code}", message_id="ATXid_same")
    assert response.status_code == 200  # the provider must not retry forever
    assert len(LocmemSmsBackend.outbox) == sent
    assert texts_to(coordinator) == []
    assert InboundSms.objects.count() == 1


def test_a_wrong_secret_is_refused_before_anything_is_read(reply, rota, callout):
    response = reply(PHONES["primary"], f"OK {callout.code}", secret="guessed-" + "x" * 27)
    assert response.status_code == 403
    callout.refresh_from_db()
    assert callout.status == CalloutStatus.DISPATCHED
    assert not InboundSms.objects.exists()


def test_without_a_configured_secret_nothing_is_accepted(reply, settings, callout):
    settings.CRISIS_SMS_INBOUND_SECRET = ""
    assert reply(PHONES["primary"], f"OK {callout.code}", secret="anything").status_code == 403


def test_an_unknown_number_gets_no_reply_and_changes_nothing(reply, rota, callout, caplog):
    sent = len(LocmemSmsBackend.outbox)
    with caplog.at_level(logging.INFO):
        reply("+22379999999", f"OK {callout.code} secret words")
    callout.refresh_from_db()
    assert callout.status == CalloutStatus.DISPATCHED
    assert len(LocmemSmsBackend.outbox) == sent
    assert InboundSms.objects.get().outcome == ReplyOutcome.UNKNOWN_NUMBER
    logged = caplog.text
    assert "unknown number" in logged
    assert "secret words" not in logged and "79999999" not in logged and callout.code not in logged


def test_a_member_who_is_not_on_the_crisis_team_is_an_unknown_number(reply, reporter, callout):
    reply(PHONES["reporter"], f"OK {callout.code}")
    assert InboundSms.objects.get().outcome == ReplyOutcome.UNKNOWN_NUMBER
    assert texts_to(reporter) == []


def test_a_responder_who_was_not_alerted_changes_nothing(reply, rota, callout):
    reply(PHONES["backup"], f"OK {callout.code}")
    callout.refresh_from_db()
    assert callout.status == CalloutStatus.DISPATCHED
    assert InboundSms.objects.get().outcome == ReplyOutcome.UNKNOWN_CODE
    assert f"{callout.code} is not one of your call-outs" in texts_to(rota["backup"])[-1]


def test_an_unknown_code_lists_the_open_ones(reply, rota, callout):
    reply(PHONES["primary"], "OK 99999")
    callout.refresh_from_db()
    assert callout.status == CalloutStatus.DISPATCHED
    assert f"Your open call-outs: {callout.code}" in texts_to(rota["primary"])[-1]


def test_a_bare_ok_counts_only_with_exactly_one_open_dispatch(
    reply, rota, coordinator, bamako, callout, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        second = log(coordinator, bamako)
    reply(PHONES["primary"], "OK")
    text = texts_to(rota["primary"])[-1]
    assert callout.code in text and second.code in text and "several" in text
    for c in (callout, second):
        c.refresh_from_db()
        assert c.status == CalloutStatus.DISPATCHED
    reply(PHONES["primary"], f"NO {second.code}")
    reply(PHONES["primary"], "ok")
    callout.refresh_from_db()
    assert callout.status == CalloutStatus.ACKNOWLEDGED


def test_a_callout_someone_else_took_names_the_role_never_the_person(reply, rota, callout):
    reply(PHONES["primary"], f"NO {callout.code}")
    reply(PHONES["backup"], f"OK {callout.code}")
    reply(PHONES["primary"], f"OK {callout.code}")
    answer = texts_to(rota["primary"])[-1]
    assert "already taken by the backup responder" in answer
    assert rota["backup"].working_name not in answer
    assert Dispatch.objects.get(callout=callout, state="accepted").responder == rota["backup"]


def test_a_reply_to_a_callout_someone_else_closed(reply, rota, coordinator, callout):
    callouts.close_callout(actor=coordinator.user, callout=callout, outcome="not_needed")
    reply(PHONES["primary"], f"OK {callout.code}")
    callout.refresh_from_db()
    assert callout.status == CalloutStatus.CLOSED
    assert "already closed" in texts_to(rota["primary"])[-1]
    assert InboundSms.objects.get().outcome == ReplyOutcome.STALE


def test_a_late_ok_for_an_old_code_never_lands_on_the_new_callout(
    reply, rota, coordinator, bamako, callout, django_capture_on_commit_callbacks
):
    callouts.close_callout(actor=coordinator.user, callout=callout, outcome="helped")
    with django_capture_on_commit_callbacks(execute=True):
        newer = log(coordinator, bamako)
    assert newer.code != callout.code
    reply(PHONES["primary"], f"OK {callout.code}")
    newer.refresh_from_db()
    assert newer.status == CalloutStatus.DISPATCHED
    assert "already closed" in texts_to(rota["primary"])[-1]


def test_a_code_is_not_issued_again_within_30_days_of_closing(rota, coordinator, bamako, callout):
    callouts.close_callout(actor=coordinator.user, callout=callout, outcome="helped")
    taken = int(callout.code) - 1000
    with mock.patch("crisis.services.common.secrets.randbelow", side_effect=[taken, taken + 1]):
        again = log(coordinator, bamako)
    assert again.code == str(taken + 1001)
    with time_machine.travel(timezone.now() + timedelta(days=29)):
        assert upkeep.release_reply_codes() == 0
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        assert upkeep.release_reply_codes() == 1
        with mock.patch("crisis.services.common.secrets.randbelow", return_value=taken):
            reused = log(coordinator, bamako)
    assert reused.code == callout.code


def test_at_most_five_quiet_replies_until_the_next_alert(
    reply, rota, coordinator, bamako, callout, django_capture_on_commit_callbacks
):
    before = len(texts_to(rota["primary"]))
    for _i in range(8):
        reply(PHONES["primary"], "HELP")
    assert len(texts_to(rota["primary"])) == before + 5
    with django_capture_on_commit_callbacks(execute=True):
        log(coordinator, bamako)  # a new alert
    reply(PHONES["primary"], "HELP")
    assert len(texts_to(rota["primary"])) == before + 5 + 2  # the alert and one answer


def test_help_lists_the_branch_words(reply, rota, bamako, callout):
    from crisis.models import CrisisSettings

    CrisisSettings.objects.create(branch=bamako, keywords={"ok": ["oui"], "no": ["non"]})
    reply(PHONES["primary"], "what now?")  # not a word we know: not understood
    assert "HELP" in texts_to(rota["primary"])[-1]
    reply(PHONES["primary"], "help")
    assert "oui = OK" in texts_to(rota["primary"])[-1]
    reply(PHONES["primary"], f"oui {callout.code}")
    callout.refresh_from_db()
    assert callout.status == CalloutStatus.ACKNOWLEDGED


def test_stop_marks_the_responder_unreachable_and_passes_the_alert_on(
    reply, rota, coordinator, bamako, callout, django_capture_on_commit_callbacks
):
    reply(PHONES["primary"], "STOP")
    assert ResponderState.objects.get(member=rota["primary"]).unreachable_since is not None
    assert len(texts_to(rota["backup"])) == 1  # at once
    with django_capture_on_commit_callbacks(execute=True):
        log(coordinator, bamako)
    assert len(texts_to(rota["backup"])) == 2  # the primary is skipped now


def test_the_logs_never_hold_the_text_or_the_number(reply, rota, callout, caplog):
    with caplog.at_level(logging.DEBUG):
        reply(PHONES["primary"], f"OK {callout.code} at the Canary bar")
        reply(PHONES["primary"], "what is this")
        reply(PHONES["primary"], "HELP")
    assert "Canary" not in caplog.text and "what is this" not in caplog.text
    assert "76000001" not in caplog.text


# --- Twilio ----------------------------------------------------------------------------


def _twilio_post(client, capture, data, signature=None):
    url = "http://testserver" + reverse("crisis:sms_twilio")
    params = {k: [v] for k, v in data.items()}
    header = signature if signature is not None else twilio.signature(url, params, TOKEN)
    with capture(execute=True):
        return client.post(reverse("crisis:sms_twilio"), data, HTTP_X_TWILIO_SIGNATURE=header)


def test_a_signed_twilio_reply_is_accepted(
    client, rota, callout, django_capture_on_commit_callbacks
):
    data = {"MessageSid": "SM0001", "From": PHONES["primary"], "To": "+1555", "Body": "OK"}
    response = _twilio_post(client, django_capture_on_commit_callbacks, data)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/xml")
    callout.refresh_from_db()
    assert callout.status == CalloutStatus.ACKNOWLEDGED


def test_a_forged_twilio_reply_is_refused_and_changes_nothing(
    client, rota, callout, django_capture_on_commit_callbacks
):
    data = {"MessageSid": "SM0002", "From": PHONES["primary"], "To": "+1555", "Body": "OK"}
    good = twilio.signature(
        "http://testserver" + reverse("crisis:sms_twilio"),
        {k: [v] for k, v in data.items()},
        TOKEN,
    )
    forged = {**data, "Body": f"NO {callout.code}"}  # the text changed after signing
    response = _twilio_post(client, django_capture_on_commit_callbacks, forged, signature=good)
    assert response.status_code == 403
    missing = _twilio_post(client, django_capture_on_commit_callbacks, data, signature="")
    assert missing.status_code == 403
    callout.refresh_from_db()
    assert callout.status == CalloutStatus.DISPATCHED
    assert not InboundSms.objects.exists()


def test_twilio_replays_are_handled_once(
    client, rota, coordinator, callout, django_capture_on_commit_callbacks
):
    data = {"MessageSid": "SM0003", "From": PHONES["primary"], "Body": f"NO {callout.code}"}
    _twilio_post(client, django_capture_on_commit_callbacks, data)
    _twilio_post(client, django_capture_on_commit_callbacks, data)
    assert len(texts_to(rota["backup"])) == 1
    assert texts_to(coordinator) == []


# --- delivery reports ------------------------------------------------------------------


def _deliver(client, capture, message_id: str, status: str):
    with capture(execute=True):
        return client.post(
            reverse("crisis:sms_at_delivery", args=[SECRET]),
            {"id": message_id, "status": status, "phoneNumber": "+22376000001"},
        )


def _alert_ref(callout: Callout, member) -> str:
    dispatch = Dispatch.objects.get(callout=callout, responder=member)
    return Notification.objects.get(dedupe_key=dispatch.dedupe_key).provider_ref


def test_a_failed_delivery_escalates_at_once(
    client, rota, callout, django_capture_on_commit_callbacks
):
    ref = _alert_ref(callout, rota["primary"])
    assert _deliver(client, django_capture_on_commit_callbacks, ref, "Failed").status_code == 200
    assert len(texts_to(rota["backup"])) == 1
    assert callout.steps.filter(kind=StepKind.DELIVERY_FAILED).count() == 1
    _deliver(client, django_capture_on_commit_callbacks, ref, "Failed")  # repeated report
    assert DeliveryReport.objects.count() == 1
    assert Dispatch.objects.filter(callout=callout, role=DispatchRole.COORDINATOR).count() == 0


def test_a_late_delivery_shows_on_the_timeline_with_its_delay(
    client, rota, callout, django_capture_on_commit_callbacks
):
    ref = _alert_ref(callout, rota["primary"])
    with time_machine.travel(timezone.now() + timedelta(minutes=12)):
        _deliver(client, django_capture_on_commit_callbacks, ref, "Success")
    step = callout.steps.get(kind=StepKind.DELIVERED)
    assert step.minutes == 12
    # Delivered, so the escalation deadline still runs as before.
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        sweep_escalations()
    assert Dispatch.objects.filter(callout=callout, role=DispatchRole.BACKUP).exists()


def test_a_french_responder_is_alerted_in_french_and_answers_in_french(
    french, reply, rota, coordinator, bamako, django_capture_on_commit_callbacks
):
    primary = rota["primary"]
    primary.preferred_language = "fr"
    primary.save(update_fields=["preferred_language"])
    with django_capture_on_commit_callbacks(execute=True):
        callout = log(coordinator, bamako)
    (alert,) = texts_to(primary)
    assert alert.startswith(f"Intervention {callout.code}.")
    assert f"OUI {callout.code}" in alert and f"NON {callout.code}" in alert
    reply(PHONES["primary"], f"Oui {callout.code}")
    assert f"ARRIVEE {callout.code}" in texts_to(primary)[-1]
    reply(PHONES["primary"], f"arrivée {callout.code}")
    reply(PHONES["primary"], f"FINI {callout.code}")
    callout.refresh_from_db()
    assert callout.status == CalloutStatus.RESOLVED
