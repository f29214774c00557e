"""The rota's texts: the coordinator hears each morning of gaps and unreachable responders
in the coming week; a responder is reminded the evening before a shift. Once each."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time

import time_machine

from crisis.models import Position
from crisis.services import notices
from tests.crisis.conftest import slot, texts_to


def _at(hour: int) -> datetime:
    # Bamako is UTC: local hours are UTC hours. Near today: the roles are current.
    return datetime.now(UTC).replace(hour=hour, minute=2, second=0, microsecond=0)


def test_the_coordinator_hears_of_gaps_each_morning_once(
    bamako, primary, coordinator, django_capture_on_commit_callbacks
):
    slot(bamako, primary, Position.PRIMARY, starts_at=time(8), ends_at=time(20))
    with django_capture_on_commit_callbacks(execute=True):
        assert notices.send_rota_notices(_at(8)) == 0  # not the hour
        with time_machine.travel(_at(9), tick=False):
            assert notices.send_rota_notices(_at(9)) == 1
            assert notices.send_rota_notices(_at(9)) == 0  # once a day
    (text,) = texts_to(coordinator)
    assert text.startswith("Crisis rota:") and re.search(r"\b\d+ gaps? in the next 7 days", text)
    assert primary.working_name not in text


def test_a_responder_is_reminded_the_evening_before_a_shift(
    bamako, primary, backup, django_capture_on_commit_callbacks
):
    slot(bamako, primary, Position.PRIMARY, starts_at=time(8), ends_at=time(20))
    weekend = 0b1100000
    slot(bamako, backup, Position.BACKUP, starts_at=time(8), ends_at=time(20), weekdays=weekend)
    evening = _at(18)
    with django_capture_on_commit_callbacks(execute=True):
        notices.send_rota_notices(evening)
        notices.send_rota_notices(evening)
    assert texts_to(primary) == ["Reminder: you are on duty tomorrow from 08:00."]
    tomorrow_is_weekend = (evening.weekday() + 1) % 7 >= 5
    assert len(texts_to(backup)) == (1 if tomorrow_is_weekend else 0)
