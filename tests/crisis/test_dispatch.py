"""A new call-out alerts the on-duty responder at once; unanswered alerts escalate to the
backup, then the coordinator, the chain repeats, then the call-out shows as unanswered.
Time is frozen and moved by hand (time-machine); the sweep runs when a test says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from crisis.models import (
    CalloutStatus,
    CrisisSettings,
    DeadlineState,
    Dispatch,
    DispatchRole,
    DispatchState,
    EscalationDeadline,
    Position,
    StepKind,
    Urgency,
)
from crisis.services import dispatch
from crisis.services.answers import Answer, Result, answer_callout
from tests.crisis.conftest import PHONES, log, slot, texts_to
from union.models import Notification, NotificationStatus
from union.notifications.sms import LocmemSmsBackend

START = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
# Escalation works on the embedded default too (SQLite: no row locks, one writer at a time).
pytestmark = pytest.mark.embedded


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def sweep_at(clock, minutes: float, capture) -> int:
    clock.move_to(START + timedelta(minutes=minutes))
    with capture(execute=True):
        return dispatch.sweep_escalations()


def test_a_new_callout_alerts_the_primary_at_once_with_a_code_and_nothing_else(
    clock, rota, coordinator, bamako, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        callout = log(coordinator, bamako, narrative="Fanta Canary arrested at the market")
    (text,) = texts_to(rota["primary"])
    assert callout.code in text and f"OK {callout.code}" in text
    assert "Fanta" not in text and "market" not in text and "Grand" not in text
    assert texts_to(rota["backup"]) == [] and texts_to(coordinator) == []
    callout.refresh_from_db()
    assert callout.status == CalloutStatus.DISPATCHED
    assert callout.dispatched_at == START
    deadline = EscalationDeadline.objects.get(callout=callout, state=DeadlineState.PENDING)
    assert deadline.due_at == START + timedelta(minutes=10)


def test_the_alert_is_sent_on_commit_not_at_the_next_sweep(
    clock, rota, coordinator, bamako, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        callout = log(coordinator, bamako)
    assert LocmemSmsBackend.outbox == []  # nothing leaves before the commit
    for callback in callbacks:
        callback()
    assert len(texts_to(rota["primary"])) == 1
    note = Notification.objects.get(dedupe_key__startswith="crisis-alert:")
    assert note.status == NotificationStatus.SENT
    assert callout.code in note.body


def test_unanswered_alerts_escalate_to_the_backup_then_the_coordinator(
    clock, rota, coordinator, bamako, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    with capture(execute=True):
        callout = log(coordinator, bamako)
    assert sweep_at(clock, 9.9, capture) == 0  # not yet
    assert texts_to(rota["backup"]) == []
    assert sweep_at(clock, 10, capture) == 1
    assert len(texts_to(rota["backup"])) == 1
    assert texts_to(coordinator) == []
    assert sweep_at(clock, 15, capture) == 0
    assert sweep_at(clock, 20, capture) == 1
    assert len(texts_to(coordinator)) == 1
    roles = list(
        Dispatch.objects.filter(callout=callout).order_by("id").values_list("role", flat=True)
    )
    assert roles == [DispatchRole.PRIMARY, DispatchRole.BACKUP, DispatchRole.COORDINATOR]
    callout.refresh_from_db()
    assert callout.escalations == 2
    assert callout.status == CalloutStatus.DISPATCHED


def test_the_chain_repeats_then_the_callout_shows_as_unanswered(
    clock, rota, coordinator, bamako, django_capture_on_commit_callbacks
):
    CrisisSettings.objects.create(branch=bamako, chain_repeats=1)
    capture = django_capture_on_commit_callbacks
    with capture(execute=True):
        callout = log(coordinator, bamako)
    for minute in (10, 20, 30, 40, 50):
        sweep_at(clock, minute, capture)
    assert len(texts_to(rota["primary"])) == 2  # round 0 and round 1
    assert len(texts_to(coordinator)) == 2
    callout.refresh_from_db()
    assert callout.unanswered_at is None
    sweep_at(clock, 60, capture)
    callout.refresh_from_db()
    assert callout.unanswered_at == START + timedelta(minutes=60)
    assert callout.steps.filter(kind=StepKind.UNANSWERED).count() == 1
    assert not EscalationDeadline.objects.filter(callout=callout, state=DeadlineState.PENDING)
    sweep_at(clock, 120, capture)
    assert len(texts_to(rota["primary"])) == 2  # nothing more


def test_urgent_callouts_escalate_sooner(
    clock, rota, coordinator, bamako, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    with capture(execute=True):
        log(coordinator, bamako, urgency=Urgency.URGENT)
    (alert,) = texts_to(rota["primary"])
    assert alert.startswith("URGENT")
    sweep_at(clock, 5, capture)
    assert len(texts_to(rota["backup"])) == 1


def test_an_empty_backup_slot_is_skipped_in_the_same_sweep(
    clock, primary, coordinator, bamako, django_capture_on_commit_callbacks
):
    slot(bamako, primary, Position.PRIMARY)  # nobody is backup
    capture = django_capture_on_commit_callbacks
    with capture(execute=True):
        callout = log(coordinator, bamako)
    sweep_at(clock, 10, capture)
    assert len(texts_to(coordinator)) == 1  # straight to the coordinator, not ten minutes later
    callout.refresh_from_db()
    assert callout.chain_step == 2


def test_a_branch_without_anyone_on_duty_alerts_its_coordinator_at_once(
    clock, coordinator, bamako, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        log(coordinator, bamako)
    assert len(texts_to(coordinator)) == 1


def test_a_branch_with_no_coordinator_falls_to_the_national_crisis_coordinator(
    clock, primary, national_crisis, bamako, django_capture_on_commit_callbacks
):
    slot(bamako, primary, Position.PRIMARY)
    capture = django_capture_on_commit_callbacks
    with capture(execute=True):
        log(primary, bamako)
    sweep_at(clock, 10, capture)
    assert len(texts_to(national_crisis)) == 1


def test_a_responder_who_cannot_be_reached_is_skipped(
    clock, rota, coordinator, bamako, django_capture_on_commit_callbacks
):
    primary = rota["primary"]
    primary.consent_sms = False
    primary.save(update_fields=["consent_sms"])
    with django_capture_on_commit_callbacks(execute=True):
        log(coordinator, bamako)
    assert texts_to(primary) == []
    assert len(texts_to(rota["backup"])) == 1


def test_nobody_at_all_waits_and_tries_the_chain_again(
    clock, primary, coordinator, bamako, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    coordinator.consent_sms = False
    coordinator.save(update_fields=["consent_sms"])
    with capture(execute=True):
        callout = log(coordinator, bamako)
    assert LocmemSmsBackend.outbox == []
    assert callout.steps.filter(kind=StepKind.NOBODY).count() == 1
    slot(bamako, primary, Position.PRIMARY)  # someone comes on duty
    sweep_at(clock, 10, capture)
    assert len(texts_to(primary)) == 1


def test_no_escalates_at_once(clock, rota, coordinator, bamako, django_capture_on_commit_callbacks):
    capture = django_capture_on_commit_callbacks
    with capture(execute=True):
        callout = log(coordinator, bamako)
    clock.move_to(START + timedelta(minutes=2))
    with capture(execute=True):
        answered = answer_callout(
            member=rota["primary"], callout=callout, answer=Answer.DECLINE, channel="sms"
        )
    assert answered.result == Result.DECLINED
    assert len(texts_to(rota["backup"])) == 1
    deadline = EscalationDeadline.objects.get(callout=callout, state=DeadlineState.PENDING)
    assert deadline.due_at == START + timedelta(minutes=12)


def test_a_no_after_escalation_moved_on_only_adds_a_line(
    clock, rota, coordinator, bamako, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    with capture(execute=True):
        callout = log(coordinator, bamako)
    sweep_at(clock, 10, capture)  # now with the backup
    with capture(execute=True):
        answered = answer_callout(
            member=rota["primary"], callout=callout, answer=Answer.DECLINE, channel="sms"
        )
    assert answered.result == Result.MOVED_ON
    assert texts_to(coordinator) == []  # not pushed on to the coordinator early
    assert callout.steps.filter(kind=StepKind.DECLINED_LATE).count() == 1


def test_an_ok_stops_escalation_and_a_missing_arrival_gets_a_reminder_then_restarts(
    clock, rota, coordinator, bamako, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    with capture(execute=True):
        callout = log(coordinator, bamako)
    clock.move_to(START + timedelta(minutes=3))
    answer_callout(member=rota["primary"], callout=callout, answer=Answer.GOING, channel="sms")
    callout.refresh_from_db()
    assert callout.status == CalloutStatus.ACKNOWLEDGED
    assert callout.acknowledged_at == START + timedelta(minutes=3)
    sweep_at(clock, 20, capture)
    assert texts_to(rota["backup"]) == []  # acknowledged: no escalation
    sweep_at(clock, 48, capture)  # 45 minutes after the OK
    reminder = texts_to(rota["primary"])[-1]
    assert f"ARRIVED {callout.code}" in reminder
    assert texts_to(rota["backup"]) == []
    sweep_at(clock, 58, capture)  # ten more minutes, still not there
    assert len(texts_to(rota["backup"])) == 1
    callout.refresh_from_db()
    assert callout.status == CalloutStatus.DISPATCHED
    assert callout.acknowledged_at == START + timedelta(minutes=3)  # the first stays
    assert Dispatch.objects.get(responder=rota["primary"]).state == DispatchState.LAPSED


def test_arrived_in_time_cancels_the_reminder(
    clock, rota, coordinator, bamako, django_capture_on_commit_callbacks
):
    capture = django_capture_on_commit_callbacks
    with capture(execute=True):
        callout = log(coordinator, bamako)
    answer_callout(member=rota["primary"], callout=callout, answer=Answer.GOING, channel="sms")
    clock.move_to(START + timedelta(minutes=30))
    answer_callout(member=rota["primary"], callout=callout, answer=Answer.ARRIVED, channel="sms")
    sweep_at(clock, 60, capture)
    assert len(texts_to(rota["primary"])) == 1  # the alert only
    callout.refresh_from_db()
    assert callout.status == CalloutStatus.ON_SCENE
    assert callout.arrived_at == START + timedelta(minutes=30)


def test_a_deadline_missed_while_no_worker_ran_fires_once_after_restart(
    clock, rota, coordinator, bamako, django_capture_on_commit_callbacks
):
    """The worker was down from minute 1 to minute 35: nothing is lost, nothing doubled."""
    capture = django_capture_on_commit_callbacks
    with capture(execute=True):
        callout = log(coordinator, bamako)
    assert sweep_at(clock, 35, capture) == 1
    assert sweep_at(clock, 35, capture) == 0
    assert len(texts_to(rota["backup"])) == 1
    assert texts_to(coordinator) == []  # one step at a time, not three at once
    assert EscalationDeadline.objects.get(
        callout=callout, state=DeadlineState.PENDING
    ).due_at == START + timedelta(minutes=45)


def test_a_sweep_killed_half_way_leaves_the_deadline_to_the_next_one(
    clock, rota, coordinator, bamako, django_capture_on_commit_callbacks, monkeypatch
):
    capture = django_capture_on_commit_callbacks
    with capture(execute=True):
        callout = log(coordinator, bamako)
    clock.move_to(START + timedelta(minutes=11))

    def killed(*args, **kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(dispatch, "notify_members", killed)
    with pytest.raises(SystemExit), capture(execute=True):
        dispatch.sweep_escalations()
    monkeypatch.undo()
    assert EscalationDeadline.objects.get(callout=callout, state=DeadlineState.PENDING)
    assert not Dispatch.objects.filter(role=DispatchRole.BACKUP).exists()
    assert sweep_at(clock, 12, capture) == 1
    assert sweep_at(clock, 13, capture) == 0
    assert len(texts_to(rota["backup"])) == 1


def test_the_sweep_writes_a_heartbeat(clock, django_capture_on_commit_callbacks, db):
    from crisis.models import SweepHeartbeat

    sweep_at(clock, 1, django_capture_on_commit_callbacks)
    assert SweepHeartbeat.objects.get().last_run_at == START + timedelta(minutes=1)


def test_phones_come_from_the_register(
    clock, rota, coordinator, bamako, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        log(coordinator, bamako)
    assert [sms["to"] for sms in LocmemSmsBackend.outbox] == [PHONES["primary"]]


def test_the_timeline_cannot_be_rewritten(clock, coordinator, bamako):
    from django.db import DatabaseError, connection, transaction

    from crisis.models import CalloutStep

    callout = log(coordinator, bamako)
    for statement in (
        "UPDATE crisis_calloutstep SET kind = 'closed' WHERE callout_id = %s",
        "DELETE FROM crisis_calloutstep WHERE callout_id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [callout.pk])
    assert CalloutStep.objects.filter(callout=callout, kind=StepKind.REPORTED).exists()
