"""Helpers shared by the crisis services: locks, reply codes, settings, the timeline."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from crisis.models import (
    Callout,
    CalloutStep,
    CrisisSettings,
    DeadlineState,
    EscalationDeadline,
)
from union.models import Branch, Member

if TYPE_CHECKING:
    from datetime import datetime

    from django.contrib.auth.models import AnonymousUser, User

    AnyUser = User | AnonymousUser

# Four digits while they last, then five, then six: a code is short to type on a keypad,
# and the pool of four-digit codes (9,000) is held for 30 days after each call-out.
_CODE_TRIES = (4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6)
CODE_HELD_DAYS = 30


def lock_callout(pk: int) -> Callout:
    """Every change to a call-out, its dispatches and its deadlines holds this lock."""
    return Callout.objects.select_for_update().select_related("branch").get(pk=pk)


def settings_for(branch: Branch) -> CrisisSettings:
    """The branch's crisis settings, or the defaults (unsaved) when it has none."""
    # The reverse one-to-one raises a DoesNotExist that is also an AttributeError.
    saved: CrisisSettings | None = getattr(branch, "crisis_settings", None)
    return saved if saved is not None else CrisisSettings(branch=branch)


def member_of(user: AnyUser | None) -> Member | None:
    """The member behind a signed-in user (office bearers are members), if any."""
    if user is None or not user.is_authenticated:
        return None
    return Member.objects.filter(user=user).first()


def free_reply_code() -> str:
    """A reply code no call-out holds. Not yet reserved: the unique index on held codes
    decides between two call-outs created at the same moment (see create_with_code)."""
    for digits in _CODE_TRIES:
        low = 10 ** (digits - 1)
        code = str(low + secrets.randbelow(9 * low))
        if not Callout.objects.filter(code=code, code_held=True).exists():
            return code
    raise RuntimeError("No free reply code after many tries.")


def create_with_code(callout: Callout) -> Callout:
    """Insert a new call-out with a free reply code, retrying if another took it."""
    for _attempt in range(5):
        callout.code = free_reply_code()
        try:
            with transaction.atomic():
                callout.save(force_insert=True)
            return callout
        except IntegrityError:
            if Callout.objects.filter(code=callout.code, code_held=True).exists():
                callout.pk = None
                continue
            raise
    raise RuntimeError("Could not reserve a reply code.")


def add_step(
    callout: Callout,
    kind: str,
    *,
    member: Member | None = None,
    role: str = "",
    channel: str = "",
    at: datetime | None = None,
    other: Callout | None = None,
    minutes: int | None = None,
) -> CalloutStep:
    return CalloutStep.objects.create(
        callout=callout,
        kind=kind,
        member=member,
        role=role,
        channel=channel,
        at=at or timezone.now(),
        other=other,
        minutes=minutes,
    )


def cancel_deadlines(callout: Callout) -> int:
    """Call under the call-out's lock, before setting a new deadline."""
    return EscalationDeadline.objects.filter(callout=callout, state=DeadlineState.PENDING).update(
        state=DeadlineState.CANCELLED
    )


def target(callout: Callout) -> str:
    """The audit log's reference to a call-out: opaque, never the reply code."""
    return f"callout:{callout.public_id}"
