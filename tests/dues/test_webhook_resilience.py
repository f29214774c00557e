"""The webhook when the broker is away: Stripe still gets its 200, and the booking whose
task was lost is made later by the retry job, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from dues.models import EntryKind, EventStatus, LedgerEntry, StripeEvent
from dues.services import card
from dues.tasks import retry_stuck_stripe_events
from tests.dues import stripe_events as ev
from tests.dues.conftest import JOINED, charge, deliver
from tests.dues.test_stripe import _account
from tests.factories import MemberFactory


@pytest.fixture
def lost_task(monkeypatch):
    """The broker refuses every task, as when Redis is down."""

    def refuse(*args, **kwargs):
        raise OSError("broker unreachable")

    monkeypatch.setattr("dues.tasks.process_stripe_event.delay", refuse)


def test_with_the_broker_away_the_event_is_stored_and_stripe_gets_200(
    client, stripe_on, bamako, bko_plan, lost_task, django_capture_on_commit_callbacks
):
    member = MemberFactory(branch=bamako, joined_on=JOINED)
    _account(member, "cus_away")
    event = ev.checkout_completed(
        "evt_away", session="cs_away", customer="cus_away", amount=1000, payment_intent="pi_a"
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = deliver(client, event)

    assert response.status_code == 200
    assert StripeEvent.objects.get().status == EventStatus.PENDING
    assert not LedgerEntry.objects.filter(kind=EntryKind.PAYMENT).exists()


def test_an_event_whose_task_was_lost_is_booked_once_by_the_retry_job(
    client, stripe_on, bamako, bko_plan, lost_task, django_capture_on_commit_callbacks, monkeypatch
):
    member = MemberFactory(branch=bamako, joined_on=JOINED)
    _account(member, "cus_lost")
    charge(bamako, "2026-11")
    event = ev.checkout_completed(
        "evt_lost", session="cs_lost", customer="cus_lost", amount=1000, payment_intent="pi_l"
    )
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, event)
    monkeypatch.undo()  # the broker is back

    assert retry_stuck_stripe_events() == 0  # too recent: its task may still be on its way
    with time_machine.travel(timezone.now() + card.STUCK_AFTER + timedelta(seconds=1)):
        assert retry_stuck_stripe_events() == 1
        assert retry_stuck_stripe_events() == 0  # booked: nothing left to retry

    assert StripeEvent.objects.get().status == EventStatus.BOOKED
    assert LedgerEntry.objects.filter(kind=EntryKind.PAYMENT, external_id="pi_l").count() == 1
