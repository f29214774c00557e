"""Races, on PostgreSQL with real threads and transactions: two escalation sweeps at
once, a NO arriving while the sweep escalates, two responders accepting at once, two
call-outs drawing the same reply code. Each ends with exactly one of everything."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from crisis.models import (
    Callout,
    DeadlineState,
    Dispatch,
    DispatchRole,
    DispatchState,
    EscalationDeadline,
)
from crisis.services import dispatch
from crisis.services.answers import Answer, answer_callout
from tests.crisis.conftest import log, texts_to

pytestmark = pytest.mark.django_db(transaction=True)


def _together(*jobs: Callable[[], object]) -> list[object]:
    """Run the jobs in threads released at the same moment; return results or errors."""
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def run(i: int, job: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=30)
            results[i] = job()
        except Exception as exc:  # reported to the test, which fails on it
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def _make_due(callouts: list[Callout]) -> timezone.datetime:
    past = timezone.now() - timedelta(minutes=11)
    EscalationDeadline.objects.filter(callout__in=callouts, state=DeadlineState.PENDING).update(
        due_at=past
    )
    return timezone.now()


def test_two_sweeps_at_once_escalate_each_callout_once(rota, coordinator, bamako):
    callouts = [log(coordinator, bamako) for _i in range(20)]
    now = _make_due(callouts)
    real_roster = dispatch.load_roster

    def slow_roster(*args, **kwargs):
        time.sleep(0.3)  # hold the claimed rows while the other sweep looks for them
        return real_roster(*args, **kwargs)

    with mock.patch.object(dispatch, "load_roster", slow_roster):
        results = _together(
            lambda: dispatch.sweep_escalations(now), lambda: dispatch.sweep_escalations(now)
        )
    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == 20  # type: ignore[arg-type]
    for callout in callouts:
        assert Dispatch.objects.filter(callout=callout, role=DispatchRole.BACKUP).count() == 1
        assert (
            EscalationDeadline.objects.filter(callout=callout, state=DeadlineState.PENDING).count()
            == 1
        )
    assert len(texts_to(rota["backup"])) == 20


def test_a_no_racing_the_sweep_escalates_once(rota, coordinator, bamako):
    for _attempt in range(5):
        callout = log(coordinator, bamako)
        now = _make_due([callout])
        results = _together(
            lambda at=now: dispatch.sweep_escalations(at),
            lambda c=callout, at=now: answer_callout(
                member=rota["primary"], callout=c, answer=Answer.DECLINE, channel="sms", now=at
            ),
        )
        assert not any(isinstance(r, Exception) for r in results), results
        sent = Dispatch.objects.filter(callout=callout)
        assert sent.filter(role=DispatchRole.BACKUP).count() == 1
        assert not sent.filter(role=DispatchRole.COORDINATOR).exists()
        assert sent.get(role=DispatchRole.PRIMARY).state == DispatchState.DECLINED


def test_two_responders_accepting_at_once_one_gets_it(rota, coordinator, bamako):
    callout = log(coordinator, bamako)
    results = _together(
        lambda: answer_callout(
            member=rota["primary"], callout=callout, answer=Answer.GOING, channel="sms"
        ),
        lambda: answer_callout(
            member=rota["backup"],
            callout=callout,
            answer=Answer.GOING,
            channel="web",
            volunteer=True,
        ),
    )
    outcomes = sorted(r.result.value for r in results)  # type: ignore[union-attr]
    assert outcomes == ["accepted", "taken"]
    assert Dispatch.objects.filter(callout=callout, state=DispatchState.ACCEPTED).count() == 1


def test_two_callouts_drawing_the_same_code_at_once_get_different_codes(coordinator, bamako):
    draws = iter([3821, 3821, 3821, 3821, *range(100, 200)])
    lock = threading.Lock()

    def draw(_bound: int) -> int:
        with lock:
            return next(draws)

    with mock.patch("crisis.services.common.secrets.randbelow", side_effect=draw):
        results = _together(lambda: log(coordinator, bamako), lambda: log(coordinator, bamako))
    assert not any(isinstance(r, Exception) for r in results), results
    codes = {c.code for c in results}  # type: ignore[union-attr]
    assert len(codes) == 2 and "4821" in codes
