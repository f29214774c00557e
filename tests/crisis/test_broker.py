"""The broker stops while call-outs are logged: the call-outs are saved, the alerts wait
in the outbox, and each is sent exactly once when the broker returns (the outbox sweeper,
union.tasks.sweep_notifications, hands them to a worker)."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.utils import timezone
from kombu.exceptions import OperationalError

from crisis.models import Callout, CalloutStatus
from tests.crisis.conftest import log, texts_to
from union.celery import app as celery_app
from union.models import Notification, NotificationStatus
from union.notifications.sms import LocmemSmsBackend
from union.tasks import send_notification, sweep_notifications


def test_alerts_logged_while_the_broker_is_down_go_out_once_when_it_is_back(
    rota, coordinator, bamako, django_capture_on_commit_callbacks
):
    with (
        mock.patch.object(send_notification, "delay", side_effect=OperationalError("down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        logged = [log(coordinator, bamako) for _i in range(10)]
    assert all(c.status == CalloutStatus.DISPATCHED for c in logged)  # logging never failed
    assert LocmemSmsBackend.outbox == []
    alerts = Notification.objects.filter(dedupe_key__startswith="crisis-alert:")
    assert set(alerts.values_list("status", flat=True)) == {NotificationStatus.PENDING}
    with time_machine.travel(timezone.now() + timedelta(minutes=2), tick=False):
        assert sweep_notifications() == 10
        assert sweep_notifications() == 0
    texts = texts_to(rota["primary"])
    assert len(texts) == 10
    assert sorted(t.split()[1].rstrip(".") for t in texts) == sorted(c.code for c in logged)


def _use_broker(url: str, *, eager: bool) -> None:
    celery_app.conf.task_always_eager = eager
    if celery_app.conf.broker_url != url:
        celery_app.conf.broker_url = url
        celery_app._after_fork()  # drop connections made to the old broker


@pytest.mark.broker
@pytest.mark.django_db(transaction=True)
def test_through_a_real_broker_that_stops_and_returns(rota, coordinator, bamako):
    from celery.contrib.testing.worker import start_worker

    broker_url = os.environ.get("TEST_REDIS_URL")
    if not broker_url:
        pytest.skip("TEST_REDIS_URL is not set (run through tests/with_services.sh)")
    previous = (celery_app.conf.broker_url, celery_app.conf.task_always_eager)
    try:
        # Nothing listens there: publishing fails after kombu's short retries.
        _use_broker("redis://127.0.0.1:9/0", eager=False)
        logged = [log(coordinator, bamako) for _i in range(10)]
        assert Callout.objects.filter(status=CalloutStatus.DISPATCHED).count() == 10
        assert LocmemSmsBackend.outbox == []
        _use_broker(broker_url, eager=False)
        with (
            start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=10),
            time_machine.travel(timezone.now() + timedelta(minutes=2)),
        ):
            sweep_notifications.delay()
            deadline = time.monotonic() + 30
            while len(LocmemSmsBackend.outbox) < 10 and time.monotonic() < deadline:
                time.sleep(0.1)
            sweep_notifications.delay()  # a second sweep finds nothing left to send
            time.sleep(1.5)
    finally:
        _use_broker(previous[0], eager=previous[1])
    texts = texts_to(rota["primary"])
    assert sorted(t.split()[1].rstrip(".") for t in texts) == sorted(c.code for c in logged)
    alerts = Notification.objects.filter(dedupe_key__startswith="crisis-alert:")
    assert set(alerts.values_list("status", flat=True)) == {NotificationStatus.SENT}
