from __future__ import annotations

from typing import TYPE_CHECKING

from union import registry
from union.models import AuditEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    from union.models import Branch, Member


def record_access(
    *,
    actor: User | AnonymousUser | None,
    action: str,
    target: str = "",
    branch: Branch | None = None,
    rows: int = 1,
) -> AuditEvent:
    """Append one audit row. `target` is an opaque reference, never a name. `action` is a
    name some app registered (union.registry); any other is a programming error."""
    if not registry.is_audit_action(action):
        raise ValueError(f"Unregistered audit action {action!r}.")
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target=target,
        branch=branch,
        rows=rows,
    )


def record_member_access(
    *, actor: User | AnonymousUser | None, action: str, member: Member
) -> AuditEvent:
    """Append one audit row about one member, named by their opaque public id."""
    return record_access(
        actor=actor, action=action, target=f"member:{member.public_id}", branch=member.branch
    )
