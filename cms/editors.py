"""Who may edit the public site: exactly the members holding a current editor role.

The Wagtail group "Editors" is derived from union roles, never managed by hand: a user is
in it while they hold a current editor role (union.permissions decides what "current"
means) and is taken out as soon as they do not. The group is checked again on every
request to the Wagtail admin (cms.admin_guard), so a role that ended overnight or a member
suspended by a direct update loses access at once, even before the daily sync runs.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import Q

from union.models import Role, RoleAssignment

if TYPE_CHECKING:
    from django.contrib.auth.models import User

logger = logging.getLogger(__name__)

EDITORS_GROUP = "Editors"


def editors_group() -> Group:
    group, _ = Group.objects.get_or_create(name=EDITORS_GROUP)
    return group


def holds_editor_role(user: User) -> bool:
    """A current editor role, checked against the database (not a per-request cache)."""
    if not (user.is_authenticated and user.is_active):
        return False
    return RoleAssignment.objects.current().filter(member__user=user, role=Role.EDITOR).exists()


def sync_editor(user: User) -> bool:
    """Put the user in the Editors group or take them out. Returns whether they are in it."""
    group = editors_group()
    should = holds_editor_role(user)
    is_in = user.groups.filter(pk=group.pk).exists()
    if should and not is_in:
        user.groups.add(group)
        logger.info("cms editor access granted to user %s", user.pk)
    elif is_in and not should:
        user.groups.remove(group)
        logger.info("cms editor access removed from user %s", user.pk)
    return should


def sync_editor_groups() -> tuple[int, int]:
    """Bring the whole group in line with the roles. Returns (editors, removed)."""
    group = editors_group()
    user_model = get_user_model()
    candidates = user_model.objects.filter(
        Q(groups=group) | Q(member__roles__role=Role.EDITOR)
    ).distinct()
    editors = removed = 0
    for user in candidates:
        was_in = user.groups.filter(pk=group.pk).exists()
        if sync_editor(user):
            editors += 1
        elif was_in:
            removed += 1
    return editors, removed


def sync_user_on_commit(user_id: int | None) -> None:
    if user_id is None:
        return

    def run() -> None:
        user = get_user_model().objects.filter(pk=user_id).first()
        if user is not None:
            sync_editor(user)

    transaction.on_commit(run)


def on_role_saved(sender: Any, instance: RoleAssignment, **kwargs: Any) -> None:
    sync_user_on_commit(instance.member.user_id)


def on_member_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    sync_user_on_commit(instance.user_id)


def pages_to_approve(user: User) -> int:
    """Pages submitted by others that this editor may approve: the office home's count."""
    from wagtail.models import TaskState

    return int(TaskState.objects.reviewable_by(user).count())
