"""A member moves to another branch: the receiving branch takes her in.

Choices made here (docs/moves.md says more):
- She keeps her membership number. It is her login (a member who reads little must not
  learn a new one in the middle of a move, perhaps of a flight), it is on her card, her
  receipts and the rolls she was on; the MemberMove row records where she came from.
- The receiving branch's secretary acts alone. The sending branch is told, never asked:
  a member moving away from danger must not wait for the town she left. The message it
  gets says neither who nor where; the office's list of moves shows the officers.
- Her roles in the old branch end with the move (a branch role is held by a member of
  that branch).
- Each app's part runs in the same transaction (union.registry.register_move_step): the
  dues app closes her account in the old branch and opens it in the new one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from union import permissions, registry
from union.models import (
    AuditAction,
    Branch,
    Member,
    MemberMove,
    MemberStatus,
    Role,
    RoleAssignment,
)
from union.permissions import Perm
from union.services.audit import record_access

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Who in the sending branch is told that a member left.
TOLD_IN_SENDING_BRANCH = (Role.SECRETARY, Role.TREASURER)
MOVABLE_STATUSES = (MemberStatus.ACTIVE, MemberStatus.LAPSED)


def check_move(*, actor: User, member: Member, to_branch: Branch) -> None:
    """The checks that need no lock: may this officer take this member into `to_branch`?
    Raises PermissionDenied or ValidationError (with a message to show)."""
    permissions.require(actor, Perm.MOVE_MEMBER_IN, to_branch.pk)
    permissions.require_another_officer(actor, member)
    if to_branch.is_national:
        raise ValidationError(
            {
                "to_branch": ValidationError(
                    _("Members belong to a branch, not to the national level."), code="national"
                )
            }
        )
    if member.branch_id == to_branch.pk:
        raise ValidationError(
            {
                "to_branch": ValidationError(
                    _("This member is already in %(branch)s.") % {"branch": to_branch},
                    code="same_branch",
                )
            }
        )
    if member.status not in MOVABLE_STATUSES:
        raise ValidationError(
            _("Only active or lapsed members can move branch; this member is %(status)s.")
            % {"status": member.get_status_display().lower()},
            code="status",
        )


def move_member(
    *,
    actor: User,
    member: Member,
    from_branch: Branch,
    to_branch: Branch,
    answers: Mapping[str, Mapping[str, Any]] | None = None,
) -> MemberMove:
    """Move `member` from `from_branch` (the branch the officer saw her in) to `to_branch`.

    One transaction, with the member locked: the move row, her roles in the old branch
    ended, her branch changed, every registered app's step (answers[step.name] holds the
    answers to its questions; dues closes and opens her account), one audit row per
    branch. If she moved meanwhile (another officer, another tab) nothing is written.
    Side effects, sent after commit through the outbox: the sending branch's secretaries
    and treasurers are told that a member left (no name, no number, no town), the member
    that her membership moved (no town either).
    """
    check_move(actor=actor, member=member, to_branch=to_branch)
    answers = answers or {}
    with transaction.atomic():
        locked = Member.objects.select_for_update().get(pk=member.pk)
        if locked.branch_id != from_branch.pk:
            raise ValidationError(
                _("This member has just been moved by someone else. Nothing was changed."),
                code="moved_meanwhile",
            )
        check_move(actor=actor, member=locked, to_branch=to_branch)
        move = _record_move(actor=actor, member=locked, to_branch=to_branch)
        _end_roles(actor=actor, member=locked, branch=from_branch)
        locked.branch = to_branch
        locked.save(update_fields=["branch"])
        for step in registry.move_steps():
            step.apply(move, answers.get(step.name, {}), actor)
        for branch in (from_branch, to_branch):
            record_access(
                actor=actor,
                action=AuditAction.MEMBER_MOVE,
                target=f"member:{locked.public_id}",
                branch=branch,
            )
        _tell(move, member=locked)
    return move


def _record_move(*, actor: User, member: Member, to_branch: Branch) -> MemberMove:
    seq = MemberMove.objects.filter(member=member).count() + 1
    try:
        with transaction.atomic():
            return MemberMove.objects.create(
                member=member,
                seq=seq,
                from_branch_id=member.branch_id,
                to_branch=to_branch,
                number=member.number or "",
                moved_by=actor,
            )
    except IntegrityError as exc:  # the unique (member, seq): a second move at once
        raise ValidationError(
            _("This member has just been moved by someone else. Nothing was changed."),
            code="moved_meanwhile",
        ) from exc


def _end_roles(*, actor: User, member: Member, branch: Branch) -> None:
    """Her roles in the branch she leaves end yesterday (like union.services.roles.end_role):
    from today they grant nothing."""
    yesterday = timezone.localdate() - timedelta(days=1)
    roles = RoleAssignment.objects.select_for_update().filter(member=member, branch=branch)
    for role in roles.filter(Q(ends_on__isnull=True) | Q(ends_on__gt=yesterday)):
        role.ends_on = yesterday
        role.save(update_fields=["ends_on"])
        record_access(
            actor=actor, action=AuditAction.ROLE_END, target=f"role:{role.pk}", branch=branch
        )


def _tell(move: MemberMove, *, member: Member) -> None:
    from union.notifications.services import notify_member, notify_members

    officers = (
        Member.objects.filter(
            pk__in=RoleAssignment.objects.current()
            .filter(branch_id=move.from_branch_id, role__in=TOLD_IN_SENDING_BRANCH)
            .values("member_id")
        )
        .exclude(pk=member.pk)
        .order_by("pk")
    )
    notify_members(
        kind="member_moved_out",
        messages_for=[(officer, f"move-out:{move.pk}:{officer.pk}", {}) for officer in officers],
    )
    notify_member(member=member, kind="member_moved", dedupe_key=f"move:{move.pk}", context={})
