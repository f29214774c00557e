"""Guessing passwords is slowed down: after five wrong passwords the account is locked, and
so, separately, is the address the guesses came from (django-axes)."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.urls import reverse
from django.utils import timezone

from tests.factories import PASSWORD

LOCKED = "Too many attempts"


def _sign_in(client, username: str, password: str, ip: str):
    return client.post(
        reverse("union:login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_a_wrong_password_says_so_and_can_be_retried(client, member):
    response = _sign_in(client, member.number, "not-my-password", "10.0.0.1")
    assert response.status_code == 200
    assert LOCKED not in response.content.decode()
    response = _sign_in(client, member.number, PASSWORD, "10.0.0.1")
    assert response.status_code == 302
    assert _signed_in(client)


def test_five_wrong_passwords_lock_the_account(client, member, settings):
    # From five different addresses, so that only the account limit can be what locks.
    for i in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, member.number, f"guess-{i}", f"10.0.1.{i}")

    response = _sign_in(client, member.number, PASSWORD, "10.0.2.1")
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert not _signed_in(client)


def test_another_account_is_not_locked_by_them(client, member, treasurer, settings):
    for i in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, member.number, f"guess-{i}", f"10.0.1.{i}")
    response = _sign_in(client, treasurer.number, PASSWORD, "10.0.3.1")
    assert response.status_code == 302


def test_five_wrong_passwords_from_one_address_lock_that_address(
    client, member, treasurer, settings
):
    # Spraying one password over many accounts from one place.
    for i in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, f"BKO-99999{i}", "password123", "10.0.9.9")

    response = _sign_in(client, member.number, PASSWORD, "10.0.9.9")
    assert response.status_code == 429
    assert not _signed_in(client)
    # A member signing in from elsewhere is not affected.
    response = _sign_in(client, treasurer.number, PASSWORD, "10.0.4.4")
    assert response.status_code == 302


def test_the_lock_lifts_after_the_cool_off(client, member, settings):
    for i in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(client, member.number, f"guess-{i}", "10.0.5.5")
    assert _sign_in(client, member.number, PASSWORD, "10.0.5.5").status_code == 429

    later = timezone.now() + timedelta(hours=settings.AXES_COOLOFF_TIME, minutes=1)
    with time_machine.travel(later, tick=False):
        response = _sign_in(client, member.number, PASSWORD, "10.0.5.5")
    assert response.status_code == 302


def test_the_lock_page_is_in_french_for_french_speakers(french, member, settings):
    for i in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(french, member.number, f"guess-{i}", f"10.0.6.{i}")
    response = _sign_in(french, member.number, PASSWORD, "10.0.6.99")
    body = response.content.decode()
    assert response.status_code == 429
    assert "Trop de tentatives" in body
    assert LOCKED not in body
