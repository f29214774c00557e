"""Whatever waits for an officer shows on their office home, with a count (issue 14, item 4).

Apps declare what can wait (union.registry.register_office_queue): applications for the
secretary, payments for a second officer, paper tallies, pages for a second editor; crisis
and welfare add theirs the same way. Each officer sees the queues they hold the permission
for, counting only what someone else must do (never their own entry to confirm), and an
officer who agreed to messages is told by SMS.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.test import Client

from tests.conftest import _officer
from tests.dues.conftest import bko_plan, pay  # noqa: F401 - bko_plan is a fixture
from tests.factories import MemberFactory
from union import registry
from union.models import Member, Notification, Role
from union.notifications.sms import LocmemSmsBackend
from union.permissions import Perm

pytestmark = pytest.mark.django_db


def _waiting(html: str) -> dict[str, int]:
    """{label: count} of the "Waiting for you" list of the office home."""
    section = re.search(r'<section aria-labelledby="waiting".*?</section>', html, re.S)
    if section is None:
        return {}
    return {
        label.strip(): int(count)
        for label, count in re.findall(
            r'<a href="[^"]+">([^<]+)</a>\s*<span class="count">(\d+)</span>', section.group(0)
        )
    }


@pytest.fixture
def payment_waiting(bamako, treasurer, bko_plan) -> Member:  # noqa: F811 - the fixture
    payer = MemberFactory(branch=bamako)
    pay(treasurer, payer, 6000, "BKO-9")
    return payer


def test_the_second_officer_sees_the_payment_waiting_on_the_office_home(
    client: Client, login, secretary, treasurer, payment_waiting, applicant
) -> None:
    login(client, secretary)
    waiting = _waiting(client.get("/office/").content.decode())
    assert waiting["Payments to confirm"] == 1
    assert waiting["Applications waiting"] == 1
    client.logout()
    # The officer who took the money does not count it as waiting for herself.
    login(client, treasurer)
    assert _waiting(client.get("/office/").content.decode())["Payments to confirm"] == 0


def test_a_queue_shows_only_to_officers_holding_its_permission(
    client: Client, login, crisis_responder, secretary
) -> None:
    login(client, crisis_responder)
    waiting = _waiting(client.get("/office/").content.decode())
    assert "Payments to confirm" not in waiting
    assert "Applications waiting" not in waiting


@pytest.fixture
def callouts_queue() -> Iterator[None]:
    """A queue as another app (crisis) would register it."""
    registry.register_office_queue(
        "test.callouts",
        label="Call-outs to answer",
        count=lambda user: 3,
        url_name="union:office",
        perm=Perm.REGISTER_MEMBER,
    )
    yield
    registry.unregister_office_queue("test.callouts")


def test_an_app_adds_its_own_queue_to_the_office_home(
    client: Client, login, crisis_responder, callouts_queue
) -> None:
    login(client, crisis_responder)
    assert _waiting(client.get("/office/").content.decode()) == {"Call-outs to answer": 3}


def test_an_editor_has_an_office_home_with_pages_to_approve(client: Client, login, bamako):
    editor = _officer(bamako, Role.EDITOR)
    login(client, editor)
    response = client.get("/office/")
    assert response.status_code == 200
    assert _waiting(response.content.decode())["Pages waiting for your approval"] == 0


@pytest.mark.usefixtures("bko_plan")
def test_the_second_officer_is_told_by_sms_when_a_payment_waits(
    bamako, treasurer, secretary, django_capture_on_commit_callbacks
) -> None:
    secretary.phone = "+22376123456"
    secretary.contact_preference = "sms"
    secretary.consent_sms = True
    secretary.save(update_fields=["phone", "contact_preference", "consent_sms"])
    with django_capture_on_commit_callbacks(execute=True):
        pay(treasurer, MemberFactory(branch=bamako), 6000, "BKO-10")
    told = Notification.objects.filter(kind="office_waiting")
    assert [n.member_id for n in told] == [secretary.pk]
    assert [m["to"] for m in LocmemSmsBackend.outbox] == ["+22376123456"]
    assert "Payments to confirm" in LocmemSmsBackend.outbox[0]["body"]
