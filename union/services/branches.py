"""A branch's public face: the helpline and drop-in centre anyone may know."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from union import permissions
from union.models import AuditAction, Branch
from union.permissions import Perm
from union.services.audit import record_access

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def set_public_contact(
    *, actor: User | None, branch: Branch, helpline: str, address: str, hours: str
) -> Branch:
    """Change what the public site and the join thank-you page say about reaching the
    branch. actor None: a setup command (the demo). Side effect: the public pages showing
    it are refreshed (cms purges its cache when a branch is saved)."""
    if actor is not None:
        permissions.require(actor, Perm.EDIT_BRANCH, branch)
    helpline = " ".join(helpline.split())
    if helpline and sum(ch.isdigit() for ch in helpline) < 3:
        raise ValidationError({"helpline": _("Give a phone number people can call.")})
    with transaction.atomic():
        branch = Branch.objects.select_for_update().get(pk=branch.pk)
        branch.public_helpline = helpline
        branch.public_address = address.strip()
        branch.public_hours = " ".join(hours.split())
        branch.save(update_fields=["public_helpline", "public_address", "public_hours"])
        record_access(
            actor=actor,
            action=AuditAction.BRANCH_EDIT,
            target=f"branch:{branch.code}",
            branch=branch,
        )
    return branch
