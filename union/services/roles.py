"""Handing out and ending office-bearer roles."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from union import permissions
from union.models import AuditAction, Branch, Member, MemberStatus, RoleAssignment
from union.services.audit import record_access

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def assign_role(
    *,
    actor: User | None,
    member: Member,
    role: str,
    branch: Branch,
    starts_on: date,
    ends_on: date | None = None,
) -> RoleAssignment:
    """Give a member a role. actor None is used only by setup commands (the demo, the first
    national coordinator); every screen passes the signed-in officer."""
    if actor is not None and not permissions.may_assign_role(actor, role, branch):
        raise PermissionDenied
    if member.status not in (MemberStatus.ACTIVE, MemberStatus.LAPSED):
        raise ValidationError(_("Only members can hold a role."))
    if not branch.is_national and member.branch_id != branch.id:
        raise ValidationError(_("A branch role goes to a member of that branch."))
    if ends_on is not None and ends_on < starts_on:
        raise ValidationError({"ends_on": _("The end date is before the start date.")})
    with transaction.atomic():
        assignment = RoleAssignment.objects.create(
            member=member,
            role=role,
            branch=branch,
            starts_on=starts_on,
            ends_on=ends_on,
            assigned_by=actor,
        )
        record_access(
            actor=actor,
            action=AuditAction.ROLE_ASSIGN,
            target=f"role:{assignment.pk}",
            branch=branch,
        )
    return assignment


def end_role(*, actor: User, assignment: RoleAssignment) -> RoleAssignment:
    """End a role yesterday, so it grants nothing from today. A no-op if it has ended already."""
    if not permissions.may_assign_role(actor, assignment.role, assignment.branch):
        raise PermissionDenied
    with transaction.atomic():
        assignment = RoleAssignment.objects.select_for_update().get(pk=assignment.pk)
        yesterday = timezone.localdate() - timedelta(days=1)
        if assignment.ends_on is not None and assignment.ends_on <= yesterday:
            return assignment
        # A role that had not started yet ends before its start: it never grants anything.
        assignment.ends_on = yesterday
        assignment.save(update_fields=["ends_on"])
        record_access(
            actor=actor,
            action=AuditAction.ROLE_END,
            target=f"role:{assignment.pk}",
            branch=assignment.branch,
        )
    return assignment
