"""A status that ends membership rights (suspended, resigned, deceased) ends the login too:
she cannot sign in and a session already open ends; reinstated, she signs in again.
Lapsing for unpaid dues ends no rights of that kind: a lapsed member keeps her login.
"""

from __future__ import annotations

from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD, MemberFactory
from union.models import Member, MemberStatus
from union.services import members as member_services
from union.services.members import change_member_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def awa(bamako) -> Member:
    return MemberFactory(branch=bamako, with_login=True, working_name="Awa Session")


def _sign_in(client: Client, member: Member) -> bool:
    response = client.post(
        reverse("union:login"), {"username": member.number, "password": PASSWORD}
    )
    return response.status_code == 302


def _signed_in(client: Client) -> bool:
    response = client.get(reverse("union:profile"))
    if response.status_code == 302:
        assert urlsplit(response["Location"]).path == reverse("union:login")
        return False
    assert response.status_code == 200
    return True


def test_a_suspended_members_open_session_is_rejected_on_the_next_request(client, secretary, awa):
    assert _sign_in(client, awa) and _signed_in(client)
    change_member_status(actor=secretary.user, member=awa, to=MemberStatus.SUSPENDED)
    assert not _signed_in(client)


def test_a_suspended_member_cannot_sign_in(client, secretary, awa):
    change_member_status(actor=secretary.user, member=awa, to=MemberStatus.SUSPENDED)
    response = client.post(reverse("union:login"), {"username": awa.number, "password": PASSWORD})
    assert response.status_code == 200
    # The same words as for a wrong password: the page does not tell her status.
    assert "That membership number and password do not match" in response.content.decode()


def test_a_reinstated_member_signs_in_again(client, secretary, awa):
    change_member_status(actor=secretary.user, member=awa, to=MemberStatus.SUSPENDED)
    change_member_status(actor=secretary.user, member=awa, to=MemberStatus.ACTIVE)
    assert _sign_in(client, awa) and _signed_in(client)


def test_a_session_ended_by_a_suspension_does_not_come_back_with_reinstatement(
    client, secretary, awa
):
    assert _sign_in(client, awa)
    change_member_status(actor=secretary.user, member=awa, to=MemberStatus.SUSPENDED)
    assert not Session.objects.filter(session_key=client.session.session_key).exists()
    change_member_status(actor=secretary.user, member=awa, to=MemberStatus.ACTIVE)
    assert not _signed_in(client)


@pytest.mark.parametrize("status", [MemberStatus.RESIGNED, MemberStatus.DECEASED])
def test_resigning_or_a_recorded_death_ends_the_login(client, secretary, awa, status):
    assert _sign_in(client, awa)
    change_member_status(actor=secretary.user, member=awa, to=status)
    assert not _signed_in(client)
    assert not _sign_in(Client(), awa)


def test_a_lapsed_member_keeps_her_login(client, awa):
    assert _sign_in(client, awa)
    change_member_status(actor=None, member=awa, to=MemberStatus.LAPSED)
    assert _signed_in(client)
    assert _sign_in(Client(), awa)


def test_the_login_ends_in_the_same_transaction_as_the_status(client, secretary, awa):
    """A status change that fails half-way leaves the login as it was, and the other way."""
    with (
        mock.patch.object(member_services, "record_member_access", side_effect=RuntimeError),
        pytest.raises(RuntimeError),
    ):
        change_member_status(actor=secretary.user, member=awa, to=MemberStatus.SUSPENDED)
    awa.refresh_from_db()
    assert awa.status == MemberStatus.ACTIVE
    assert awa.user.is_active
    assert _sign_in(client, awa)


def test_the_office_status_form_ends_the_login(client, login, secretary, awa):
    member_client = Client()
    assert _sign_in(member_client, awa)
    login(client, secretary).post(
        reverse("union:member_status", args=[awa.public_id]),
        {"status": MemberStatus.SUSPENDED, "reason": "asked to pause"},
    )
    assert not _signed_in(member_client)
