from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", password="x" * 20)


def test_office_bearers_who_are_not_superusers_cannot_use_the_django_admin(
    client, login, secretary
):
    login(client, secretary)
    response = client.get(reverse("admin:index"), follow=True)
    assert response.status_code == 403


def test_a_superuser_must_pass_the_second_factor_first(client, superuser):
    client.force_login(superuser)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    response = client.get(response["Location"])
    assert response["Location"].startswith(reverse("union:two_factor"))


def test_a_verified_superuser_reaches_the_django_admin(client, superuser):
    device = TOTPDevice.objects.create(user=superuser, name="t", confirmed=True)
    client.force_login(superuser)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    assert client.get(reverse("admin:index")).status_code == 200
