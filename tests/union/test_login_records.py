"""Login records keep only what lockouts need, for as long as they need it.

A list of who signed in, when, from where and with which phone is itself a list of union
members: nothing of it is kept. A failed attempt is kept (account, address, count) only
until its cool-off is over; a periodic job removes what no login came by to clean.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.urls import reverse
from django.utils import timezone

from tests.factories import PASSWORD
from union import registry
from union.tasks import forget_old_login_attempts

# The findings were reproduced on the embedded default: these run on SQLite too.
pytestmark = pytest.mark.embedded

BROWSER = "Mozilla/5.0 (Linux; Android 8.1; itel A16) Chrome/90"


def _sign_in(client, username: str, password: str, ip: str = "10.1.0.1"):
    return client.post(
        reverse("union:login") + "?next=/account/",
        {"username": username, "password": password},
        REMOTE_ADDR=ip,
        HTTP_USER_AGENT=BROWSER,
        HTTP_ACCEPT="text/html",
    )


def test_signing_in_and_out_leaves_no_access_log(client, member):
    assert _sign_in(client, member.number, PASSWORD).status_code == 302
    client.post(reverse("union:logout"))
    assert not AccessLog.objects.exists()


def test_a_failed_sign_in_keeps_the_account_address_and_count_only(client, member):
    _sign_in(client, member.number, "wrong-1")
    _sign_in(client, member.number, "wrong-2")

    attempt = AccessAttempt.objects.get()
    assert (attempt.username, attempt.ip_address, attempt.failures_since_start) == (
        member.number,
        "10.1.0.1",
        2,
    )
    # No browser, no page, no form contents: lockouts do not use them.
    assert (attempt.user_agent, attempt.http_accept, attempt.path_info) == ("", "", "")
    assert (attempt.get_data, attempt.post_data) == ("", "")
    assert not AccessFailureLog.objects.exists()


def test_the_job_deletes_failures_once_their_cool_off_is_over(client, member, treasurer, settings):
    start = timezone.now()
    cool_off = timedelta(hours=settings.AXES_COOLOFF_TIME)
    _sign_in(client, member.number, "wrong")
    with time_machine.travel(start + cool_off - timedelta(minutes=5), tick=False):
        _sign_in(client, treasurer.number, "wrong", ip="10.1.0.2")
    with time_machine.travel(start + cool_off + timedelta(minutes=1), tick=False):
        # Rows an older configuration wrote are no longer wanted at all.
        AccessLog.objects.create(username=member.number, ip_address="10.1.0.1")
        AccessFailureLog.objects.create(username=member.number, ip_address="10.1.0.1")

        assert forget_old_login_attempts() == 3

    # The treasurer's failure still counts towards a lockout: it stays.
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == [treasurer.number]
    assert not AccessLog.objects.exists()
    assert not AccessFailureLog.objects.exists()


def test_the_job_leaves_a_current_lockout_in_place(client, member, settings):
    for i in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, member.number, f"wrong-{i}")

    forget_old_login_attempts()

    assert _sign_in(client, member.number, PASSWORD).status_code == 429


def test_the_job_runs_on_a_schedule():
    jobs = {job.name: job for job in registry.periodic_jobs()}
    assert jobs["forget-login-attempts"].task == "union.tasks.forget_old_login_attempts"


@pytest.mark.parametrize("level", ["WARNING", "INFO"])
def test_login_failures_are_logged_without_the_address(client, member, caplog, level):
    with caplog.at_level(level, logger="axes"):
        _sign_in(client, member.number, "wrong", ip="10.77.66.55")
    assert caplog.records, "axes logs the failure"
    assert "10.77.66.55" not in caplog.text
    assert member.number not in caplog.text
