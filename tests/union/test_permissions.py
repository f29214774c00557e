"""One way to check a permission (require) and one way to filter by it (visible)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from tests.factories import MemberFactory
from union import permissions
from union.models import Member, MemberStatus, Role, RoleAssignment
from union.permissions import Perm

pytestmark = pytest.mark.django_db


def test_require_allows_the_officer_s_own_branch_only(secretary, bamako, segou):
    permissions.require(secretary.user, Perm.VIEW_REGISTER, bamako)
    permissions.require(secretary.user, Perm.VIEW_REGISTER, bamako.pk)
    permissions.require(secretary.user, Perm.VIEW_REGISTER)
    with pytest.raises(PermissionDenied):
        permissions.require(secretary.user, Perm.VIEW_REGISTER, segou)


def test_require_denies_a_member_without_a_role_and_a_national_branch_to_a_branch_officer(
    member, secretary, national, bamako
):
    with pytest.raises(PermissionDenied):
        permissions.require(member.user, Perm.VIEW_REGISTER)
    with pytest.raises(PermissionDenied):
        permissions.require(secretary.user, Perm.MANAGE_VOTES, national)


def test_national_roles_reach_every_branch(national_coordinator, segou, national):
    permissions.require(national_coordinator.user, Perm.VIEW_REGISTER, segou)
    permissions.require(national_coordinator.user, Perm.MANAGE_VOTES, national)


def test_visible_filters_by_branch_and_by_a_path_to_one(secretary, bamako, segou):
    mine = MemberFactory(branch=bamako)
    theirs = MemberFactory(branch=segou)
    seen = set(permissions.visible(Member.objects.all(), secretary.user, Perm.VIEW_REGISTER))
    assert mine in seen and theirs not in seen
    roles = permissions.visible(
        RoleAssignment.objects.all(), secretary.user, Perm.VIEW_REGISTER, field="member__branch"
    )
    assert {r.member.branch_id for r in roles} == {bamako.pk}


def test_visible_is_empty_without_the_permission(member):
    assert not permissions.visible(Member.objects.all(), member.user, Perm.VIEW_REGISTER).exists()


def test_one_definition_of_a_current_role(bamako):
    today = timezone.localdate()
    holder = MemberFactory(branch=bamako)
    future = RoleAssignment.objects.create(
        member=holder, role=Role.EDITOR, branch=bamako, starts_on=today + timedelta(days=1)
    )
    ended = RoleAssignment.objects.create(
        member=holder,
        role=Role.TREASURER,
        branch=bamako,
        starts_on=today - timedelta(days=9),
        ends_on=today - timedelta(days=1),
    )
    running = RoleAssignment.objects.create(
        member=holder, role=Role.SECRETARY, branch=bamako, starts_on=today, ends_on=today
    )
    assert set(RoleAssignment.objects.current()) == {running}
    assert set(RoleAssignment.objects.current(on=today + timedelta(days=1))) == {future}
    assert ended in RoleAssignment.objects.current(on=today - timedelta(days=2))
    Member.objects.filter(pk=holder.pk).update(status=MemberStatus.SUSPENDED)
    assert not RoleAssignment.objects.current().exists()
