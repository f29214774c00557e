"""Operators hear when the escalation sweep stops: after 3 minutes without a run, an
error in the log and a text to the national crisis coordinators, at most once an hour."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command

from crisis.models import SweepHeartbeat
from crisis.services import dispatch, upkeep
from tests.crisis.conftest import texts_to

# Near the real date: the personas' roles are current from 60 days before the real today.
START = datetime.now(UTC).replace(second=0, microsecond=0)


def test_a_stalled_sweep_is_reported_once_an_hour(
    national_crisis, caplog, django_capture_on_commit_callbacks
):
    dispatch.beat(START)
    capture = django_capture_on_commit_callbacks
    with time_machine.travel(START + timedelta(minutes=2, seconds=59), tick=False):
        assert upkeep.check_sweep_heartbeat() is True
    with (
        caplog.at_level(logging.ERROR),
        capture(execute=True),
        time_machine.travel(START + timedelta(minutes=4), tick=False),
    ):
        assert upkeep.check_sweep_heartbeat() is False
    assert "has not run for 4 minutes" in caplog.text
    (text,) = texts_to(national_crisis)
    assert "4 minutes" in text
    with capture(execute=True), time_machine.travel(START + timedelta(minutes=30), tick=False):
        assert upkeep.check_sweep_heartbeat() is False
    assert len(texts_to(national_crisis)) == 1  # not every minute
    with capture(execute=True), time_machine.travel(START + timedelta(minutes=65), tick=False):
        upkeep.check_sweep_heartbeat()
    assert len(texts_to(national_crisis)) == 2


def test_a_running_sweep_keeps_the_watchdog_quiet(national_crisis):
    with time_machine.travel(START, tick=False):
        dispatch.sweep_escalations()
    with time_machine.travel(START + timedelta(minutes=1), tick=False):
        dispatch.sweep_escalations()
        assert upkeep.check_sweep_heartbeat() is True
    assert SweepHeartbeat.objects.get().last_alert_at is None
    assert texts_to(national_crisis) == []


def test_the_check_command_fails_for_monitoring_when_stalled(db):
    dispatch.beat(START)
    with time_machine.travel(START + timedelta(minutes=1), tick=False):
        call_command("check_crisis_sweep")
    with (
        time_machine.travel(START + timedelta(minutes=10), tick=False),
        pytest.raises(SystemExit) as stopped,
    ):
        call_command("check_crisis_sweep")
    assert stopped.value.code == 1
