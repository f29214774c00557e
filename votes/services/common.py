"""What the vote services share: the audit reference of a vote, and who may run one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied

from union.services.audit import record_access
from votes.selectors import may_manage

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    from union.models import AuditEvent, Branch
    from votes.models import Vote


def require_manage(actor: User, vote: Vote) -> None:
    if not may_manage(actor, vote):
        raise PermissionDenied


def record_vote_access(
    *,
    actor: User | AnonymousUser | None,
    action: str,
    vote: Vote,
    branch: Branch | None = None,
    rows: int = 1,
) -> AuditEvent:
    """One audit row about a vote, named by its opaque public id; the vote's branch
    unless another is given (the branch of a checked-in member or a paper tally)."""
    return record_access(
        actor=actor,
        action=action,
        target=f"vote:{vote.public_id}",
        branch=branch or vote.branch,
        rows=rows,
    )
