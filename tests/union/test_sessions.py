"""Sessions on shared phones: the quick exit signs out, and a session does not outlive its use.

A member's phone is often someone else's too. After a quick exit, Back or the next person
must find no account open; a session ends when the browser closes, and after a while of
doing nothing (shorter for office bearers, who see other members' records).
"""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cms import quick_exit

# The findings were reproduced on the embedded default: these run on SQLite too.
pytestmark = pytest.mark.embedded

EXIT = "/exit/"


class QuickExitLink(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.attributes: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "a" and "data-quick-exit" in values and not self.attributes:
            self.attributes = values


def _quick_exit_link(html: str) -> dict[str, str]:
    parser = QuickExitLink()
    parser.feed(html)
    return parser.attributes


def _signed_in(client: Client) -> bool:
    return SESSION_KEY in client.session


def _sent_to_sign_in(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("union:login"))


def test_the_quick_exit_link_of_a_signed_in_page_signs_out_on_its_way(client, member, login):
    login(client, member)
    link = _quick_exit_link(client.get(reverse("union:profile")).content.decode())
    # Without JavaScript the link alone does it: through the sign-out, then away.
    assert link["href"] == EXIT
    assert link["data-sign-out"] == EXIT
    assert link["data-quick-exit"] == settings.CMS_QUICK_EXIT_URL

    response = client.get(link["href"])

    assert response.status_code == 302
    assert response["Location"] == settings.CMS_QUICK_EXIT_URL
    assert not _signed_in(client)
    # Back, or the next person on the phone: the profile asks to sign in.
    assert _sent_to_sign_in(client.get(reverse("union:profile")))


def test_the_script_signs_out_with_a_beacon_that_needs_no_csrf_token(member, login):
    client = Client(enforce_csrf_checks=True)
    login(client, member)

    response = client.post(EXIT)  # what navigator.sendBeacon sends: a bare POST

    assert response.status_code == 302
    assert not _signed_in(client)
    assert _sent_to_sign_in(client.get(reverse("union:profile")))


def test_the_script_sends_the_beacon_before_leaving():
    script = quick_exit.SCRIPT
    assert "navigator.sendBeacon" in script
    assert script.index("sendBeacon") < script.index("location.replace")


def test_an_office_bearers_quick_exit_ends_the_second_factor_too(client, secretary, login):
    login(client, secretary)
    assert client.get(reverse("union:office")).status_code == 200
    client.get(EXIT)
    assert "otp_device_id" not in client.session
    assert _sent_to_sign_in(client.get(reverse("union:office")))


def test_the_quick_exit_of_a_visitor_just_leaves(client, db):
    link = _quick_exit_link(client.get(reverse("union:login")).content.decode())
    assert link["href"] == settings.CMS_QUICK_EXIT_URL
    assert "data-sign-out" not in link
    response = client.get(EXIT)
    assert (response.status_code, response["Location"]) == (302, settings.CMS_QUICK_EXIT_URL)


def test_the_quick_exit_goes_nowhere_but_the_neutral_site(client, member, login):
    login(client, member)
    response = client.get(EXIT + "?next=https://evil.example/")
    assert response["Location"] == settings.CMS_QUICK_EXIT_URL


def test_signed_in_pages_are_not_kept_by_the_browser(client, member, login):
    login(client, member)
    for url in (reverse("union:profile"), reverse("union:home"), reverse("union:join")):
        response = client.get(url)
        assert "no-store" in response.get("Cache-Control", ""), url


def test_a_session_ends_when_the_browser_closes(client, member):
    from tests.factories import PASSWORD

    client.post(reverse("union:login"), {"username": member.number, "password": PASSWORD})
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie.value
    assert not cookie["expires"]
    assert not cookie["max-age"]


@pytest.mark.parametrize(
    ("persona", "page", "minutes"),
    [("member", "union:profile", 30), ("secretary", "union:office", 15)],
    ids=["member-30-minutes", "office-bearer-15-minutes"],
)
def test_a_session_left_idle_too_long_is_ended(client, login, request, persona, page, minutes):
    login(client, request.getfixturevalue(persona))
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert client.get(reverse(page)).status_code == 200
    # Each use starts the count again.
    with time_machine.travel(start + timedelta(minutes=minutes - 1), tick=False):
        assert client.get(reverse(page)).status_code == 200
    with time_machine.travel(start + timedelta(minutes=2 * minutes - 2), tick=False):
        assert client.get(reverse(page)).status_code == 200

    with time_machine.travel(start + timedelta(minutes=3 * minutes), tick=False):
        response = client.get(reverse(page))

        assert _sent_to_sign_in(response)
        assert not _signed_in(client)
        page_after = client.get(response["Location"])
    assert "signed out after" in page_after.content.decode()


def test_the_idle_limits_are_settings(client, member, login, settings):
    settings.SESSION_IDLE_MINUTES = 5
    login(client, member)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.get(reverse("union:profile"))
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        assert _sent_to_sign_in(client.get(reverse("union:profile")))


def test_the_idle_sign_out_is_explained_in_french(french, member, login):
    login(french, member)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        french.get(reverse("union:profile"))
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        response = french.get(reverse("union:profile"), follow=True)
    assert "inactivité" in response.content.decode()


def test_expired_sessions_are_deleted_from_the_database(client, member, login):
    from django.contrib.sessions.models import Session

    from union import registry
    from union.tasks import clear_expired_sessions

    login(client, member)
    later = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE + 60)
    with time_machine.travel(later, tick=False):
        clear_expired_sessions()
    assert not Session.objects.exists()
    jobs = {job.name: job.task for job in registry.periodic_jobs()}
    assert jobs["clear-sessions"] == "union.tasks.clear_expired_sessions"
