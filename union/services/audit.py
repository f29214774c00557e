from __future__ import annotations

from typing import TYPE_CHECKING

from union.models import AuditEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    from union.models import Branch


def record_access(
    *,
    actor: User | AnonymousUser | None,
    action: str,
    target: str = "",
    branch: Branch | None = None,
    rows: int = 1,
) -> AuditEvent:
    """Append one audit row. `target` is an opaque reference, never a name."""
    return AuditEvent.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        target=target,
        branch=branch,
        rows=rows,
    )
