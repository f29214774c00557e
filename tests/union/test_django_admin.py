from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse

from tests.cms.builders import verified
from union.models import AuditEvent, Role, RoleAssignment

# The findings were reproduced on the embedded default: these run on SQLite too.
pytestmark = pytest.mark.embedded


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


@pytest.fixture
def verified_superuser(client, superuser):
    return verified(client, superuser)


def test_a_verified_superuser_reaches_the_django_admin(verified_superuser):
    assert verified_superuser.get(reverse("admin:index")).status_code == 200


def test_a_superuser_cannot_assign_a_role_in_the_django_admin(
    verified_superuser, superuser, member, bamako
):
    client = verified_superuser
    response = client.post(
        reverse("admin:union_roleassignment_add"),
        {
            "member": member.pk,
            "role": Role.SECRETARY,
            "branch": bamako.pk,
            "starts_on": "2026-01-01",
            "assigned_by": superuser.pk,
            "created_at_0": "2026-01-01",
            "created_at_1": "10:00:00",
        },
    )
    assert response.status_code == 403
    assert not RoleAssignment.objects.filter(member=member).exists()
    assert not AuditEvent.objects.filter(action="role.assign").exists()


def test_a_superuser_cannot_change_or_end_a_role_in_the_django_admin(
    verified_superuser, superuser, secretary, bamako
):
    client = verified_superuser
    role = RoleAssignment.objects.get(member=secretary)
    change = reverse("admin:union_roleassignment_change", args=[role.pk])
    assert client.get(change).status_code == 200  # it can be looked at
    response = client.post(
        change,
        {
            "member": secretary.pk,
            "role": Role.NATIONAL_COORDINATOR,
            "branch": bamako.pk,
            "starts_on": role.starts_on.isoformat(),
            "ends_on": "2020-01-01",
            "assigned_by": superuser.pk,
            "created_at_0": "2026-01-01",
            "created_at_1": "10:00:00",
        },
    )
    assert response.status_code == 403
    role.refresh_from_db()
    assert (role.role, role.ends_on) == (Role.SECRETARY, None)
    delete = reverse("admin:union_roleassignment_delete", args=[role.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert RoleAssignment.objects.filter(pk=role.pk).exists()


DOMAIN_APPS = {"union", "dues", "votes", "crisis"}
# Branches are set up here (there is no other screen for it); once set up, what members'
# numbers, money and roles depend on is fixed (see union/admin.py).
SET_UP_HERE = {"union.Branch"}


def test_domain_records_are_read_only_in_the_django_admin_even_for_a_superuser(rf, superuser):
    request = rf.get("/")
    request.user = superuser
    checked = []
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in DOMAIN_APPS:
            continue
        checked.append(model._meta.label)
        assert not model_admin.has_delete_permission(request), model._meta.label
        if model._meta.label in SET_UP_HERE:
            continue
        assert not model_admin.has_add_permission(request), model._meta.label
        assert not model_admin.has_change_permission(request), model._meta.label
        assert model_admin.has_view_permission(request), model._meta.label
    assert "union.RoleAssignment" in checked
    assert "union.AuditEvent" in checked


def test_a_branch_keeps_its_code_currency_and_place_in_the_tree(verified_superuser, bamako):
    client = verified_superuser
    change = reverse("admin:union_branch_change", args=[bamako.pk])
    response = client.post(
        change,
        {
            "code": "XXX",
            "name": "Bamako Centre",
            "region": "District de Bamako",
            "currency": "EUR",
            "time_zone": bamako.time_zone,
            "languages": '["fr"]',
            "parent": "",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    bamako.refresh_from_db()
    assert bamako.name == "Bamako Centre"
    assert (bamako.code, bamako.currency, bamako.parent.code) == ("BKO", "XOF", "NAT")
