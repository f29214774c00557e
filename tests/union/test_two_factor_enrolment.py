"""Setting up the second factor: a new office bearer adds the union to an authenticator app
and proves it with a first code. Only then does the authenticator protect the account, and
the audit log says when that happened (an officer who "never set it up" can be checked)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import MemberFactory
from union.models import AuditAction, AuditEvent, Member, Role, RoleAssignment
from union.services.accounts import confirm_two_factor, start_two_factor

NOW = timezone.now()


@pytest.fixture
def newcomer(bamako) -> Member:
    """A treasurer from today, signed in with a password only, without an authenticator yet."""
    person = MemberFactory(branch=bamako, with_login=True)
    RoleAssignment.objects.create(
        member=person, role=Role.TREASURER, branch=bamako, starts_on=timezone.localdate()
    )
    return person


def _code(device: TOTPDevice) -> str:
    """The code the authenticator app shows now."""
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def _wrong(device: TOTPDevice) -> str:
    return f"{(int(_code(device)) + 1) % 1_000_000:06d}"


@time_machine.travel(NOW, tick=False)
def test_setting_up_the_second_factor_confirms_it_and_leaves_one_audit_row(newcomer):
    device = start_two_factor(user=newcomer.user)
    assert not device.confirmed

    confirmed = confirm_two_factor(user=newcomer.user, device=device, token=_code(device))

    assert confirmed.pk == device.pk
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    (event,) = AuditEvent.objects.all()
    assert event.action == AuditAction.TWO_FACTOR
    assert event.actor == newcomer.user
    assert event.target == f"member:{newcomer.public_id}"
    assert event.branch == newcomer.branch


@time_machine.travel(NOW, tick=False)
def test_a_wrong_code_confirms_nothing_and_writes_nothing(newcomer):
    device = start_two_factor(user=newcomer.user)

    for token in (_wrong(device), ""):
        with pytest.raises(ValidationError) as refused:
            confirm_two_factor(user=newcomer.user, device=device, token=token)
        assert "That code is not right" in " ".join(refused.value.messages)

    assert not TOTPDevice.objects.filter(user=newcomer.user, confirmed=True).exists()
    assert not AuditEvent.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_a_wrong_code_still_counts_towards_the_guessing_limit(newcomer):
    """The refusal must not roll back django-otp's count of failures, or codes could be
    guessed without limit while the authenticator is being set up."""
    device = start_two_factor(user=newcomer.user)
    with pytest.raises(ValidationError):
        confirm_two_factor(user=newcomer.user, device=device, token=_wrong(device))
    assert TOTPDevice.objects.get(pk=device.pk).throttling_failure_count == 1


def test_setting_up_again_once_confirmed_is_a_no_op(newcomer):
    device = start_two_factor(user=newcomer.user)
    with time_machine.travel(NOW, tick=False):
        confirm_two_factor(user=newcomer.user, device=device, token=_code(device))
    with time_machine.travel(NOW + timedelta(seconds=30), tick=False):
        again = confirm_two_factor(user=newcomer.user, device=device, token=_code(device))

    assert again.pk == device.pk and again.confirmed
    assert TOTPDevice.objects.filter(user=newcomer.user).count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.TWO_FACTOR).count() == 1


@time_machine.travel(NOW, tick=False)
def test_the_same_code_cannot_be_used_twice(newcomer):
    device = start_two_factor(user=newcomer.user)
    code = _code(device)
    confirm_two_factor(user=newcomer.user, device=device, token=code)
    with pytest.raises(ValidationError):
        confirm_two_factor(user=newcomer.user, device=device, token=code)
    assert AuditEvent.objects.count() == 1


@time_machine.travel(NOW, tick=False)
def test_authenticators_left_half_set_up_are_removed(newcomer):
    device = start_two_factor(user=newcomer.user)
    assert start_two_factor(user=newcomer.user).pk == device.pk  # the same QR code on reload
    leftover = TOTPDevice.objects.create(user=newcomer.user, name="authenticator", confirmed=False)

    confirm_two_factor(user=newcomer.user, device=device, token=_code(device))

    assert list(TOTPDevice.objects.filter(user=newcomer.user).values_list("pk", flat=True)) == [
        device.pk
    ]
    assert not TOTPDevice.objects.filter(pk=leftover.pk).exists()


@time_machine.travel(NOW, tick=False)
def test_nobody_can_confirm_someone_elses_authenticator(newcomer, secretary):
    device = start_two_factor(user=newcomer.user)
    with pytest.raises(PermissionDenied):
        confirm_two_factor(user=secretary.user, device=device, token=_code(device))
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed
    assert not AuditEvent.objects.exists()


def test_the_set_up_screen_confirms_through_the_service(client, newcomer):
    client.force_login(newcomer.user)
    assert client.get(reverse("union:two_factor")).status_code == 200
    device = TOTPDevice.objects.get(user=newcomer.user)

    with time_machine.travel(NOW, tick=False) as clock:
        wrong = client.post(reverse("union:two_factor"), {"token": _wrong(device)})
        assert "That code is not right" in wrong.content.decode()
        assert not AuditEvent.objects.filter(action=AuditAction.TWO_FACTOR).exists()

        clock.shift(timedelta(seconds=5))  # past the pause django-otp imposes after a wrong code
        response = client.post(
            reverse("union:two_factor"), {"token": _code(device), "next": "/dues/"}
        )
    assert response.status_code == 302
    assert response["Location"] == "/dues/"
    assert AuditEvent.objects.filter(action=AuditAction.TWO_FACTOR).count() == 1
    assert client.get(reverse("union:members")).status_code == 200
