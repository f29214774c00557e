from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import MemberFactory
from union.models import Role, RoleAssignment


def test_a_johannesburg_officer_finds_a_member_by_a_local_south_african_number(
    client, login, johannesburg
):
    officer = MemberFactory(branch=johannesburg, with_login=True)
    RoleAssignment.objects.create(
        member=officer,
        role=Role.SECRETARY,
        branch=johannesburg,
        starts_on=timezone.localdate() - timedelta(days=1),
    )
    TOTPDevice.objects.create(user=officer.user, name="t", confirmed=True)
    wanted = MemberFactory(branch=johannesburg, phone="+27821234567", working_name="Zanele")
    MemberFactory(branch=johannesburg, working_name="Thandi")
    login(client, officer)

    response = client.get(reverse("union:members"), {"q": "082 123 4567"})

    body = response.content.decode()
    assert wanted.working_name in body
    assert "Thandi" not in body
