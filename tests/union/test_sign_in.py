"""Signing in as members and officers expect it (issue 14, item 6): officers land on the
office after their second factor, members on their own account; the form asks for the
membership number and speaks its own words; after setting a password the number is
already filled in (and never put in an address, which stays in a shared phone's history).
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import PASSWORD
from union.models import Member
from union.services import members as member_services

pytestmark = pytest.mark.django_db


def _sign_in(client: Client, member: Member, **extra: str) -> object:
    return client.post(
        "/account/login/", {"username": member.user.username, "password": PASSWORD, **extra}
    )


def _code(member: Member) -> str:
    device = TOTPDevice.objects.get(user=member.user, confirmed=True)
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def test_a_member_lands_on_their_own_account(client: Client, member) -> None:
    response = _sign_in(client, member)
    assert response.status_code == 302
    assert response["Location"] == "/account/"


def test_an_officer_lands_on_the_office_after_the_second_factor(client: Client, secretary):
    response = _sign_in(client, secretary)
    assert response["Location"].startswith("/account/two-factor/")
    second = client.post(response["Location"], {"token": _code(secretary)})
    assert second.status_code == 302
    assert second["Location"] == "/office/"


def test_an_address_asked_for_is_kept(client: Client, member) -> None:
    response = _sign_in(client, member, next="/dues/my/")
    assert response["Location"] == "/dues/my/"


def test_the_form_asks_for_the_membership_number_in_french(french: Client, db) -> None:
    html = french.get("/account/login/").content.decode()
    label = re.search(r'<label for="id_username">([^<]*)</label>', html)
    assert label is not None and label.group(1).rstrip("\xa0: ") == "Numéro de membre"
    assert "Nom d\u2019utilisateur" not in html


def test_a_wrong_password_is_told_in_our_own_words(client: Client, member) -> None:
    html = client.post(
        "/account/login/", {"username": member.user.username, "password": "wrong"}
    ).content.decode()
    assert "Please enter a correct" not in html
    assert "That membership number and password do not match." in html


def test_after_setting_a_password_the_number_is_already_filled_in(client: Client, member):
    code = member_services._new_code(member.user)
    response = client.post(
        "/account/set-password/",
        {
            "username": member.number,
            "code": code,
            "new_password1": "mangoes-under-the-bridge-42",
            "new_password2": "mangoes-under-the-bridge-42",
        },
    )
    assert response.status_code == 302
    assert member.number not in response["Location"]
    html = client.get(response["Location"]).content.decode()
    field = re.search(r'<input[^>]*name="username"[^>]*>', html).group(0)
    assert f'value="{member.number}"' in field
    # Only once: a later visit to the sign-in page starts empty.
    again = client.get("/account/login/").content.decode()
    assert f'value="{member.number}"' not in again


def test_a_number_far_too_long_is_refused_with_a_message(client: Client, db) -> None:
    """Django's form does not check the length it announces: 5,000 characters used to
    reach the lockout records (255 at most) and answer 500."""
    response = client.post("/account/login/", {"username": "7" * 5000, "password": "x" * 12})
    assert response.status_code == 200
    assert "at most 150 characters" in response.content.decode()
