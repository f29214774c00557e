"""Forgetting a member at her request (she resigned, or she is in danger).

What identifies her goes: legal name, phone (and its keyed hash), email, officers' notes,
reasons written in her status history, the texts of messages to her, her login with its
second factor and sessions; her working name becomes her membership number. What the
union's accounts and past votes need stays, pointing at a member with nothing personal
left: ledger rows, vote marks, rolls, audit rows. Each app erases its own personal data
through an erasure hook (union.registry.register_erasure_hook).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django_otp import devices_for_user

from union import permissions, registry
from union.models import (
    AuditAction,
    ContactPreference,
    Member,
    MemberStatusChange,
    Notification,
    NotificationStatus,
    SetPasswordCode,
)
from union.permissions import Perm
from union.services.accounts import end_sessions
from union.services.audit import record_member_access

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# The working name of an erased applicant, who has no membership number.
NO_NUMBER = "—"


def erase_member(*, actor: User, member: Member) -> Member:
    """Erase a member's personal details; erasing her again changes nothing.

    The member herself may (her account asks her to confirm with her password), or an
    officer with ERASE_MEMBER for her branch (the office asks for her number). Side
    effects, in one transaction: the audit row (without any erased value, written first);
    her sessions ended and her login made unusable (she cannot sign in); messages still
    waiting for her not sent; every app's erasure hook run.
    """
    own = getattr(actor, "member", None) == member
    if not own:
        permissions.require(actor, Perm.ERASE_MEMBER, member.branch_id)
    with transaction.atomic():
        member = Member.objects.select_for_update().select_related("branch").get(pk=member.pk)
        if member.erased_at is not None:
            return member
        record_member_access(actor=actor, action=AuditAction.MEMBER_ERASE, member=member)
        _erase_login(member)
        member.working_name = member.number or NO_NUMBER
        member.legal_name = member.phone = member.pending_phone = ""
        member.email = member.notes = ""
        member.phone_hash = None
        member.contact_preference = ContactPreference.NONE
        member.consent_sms = member.consent_crisis_contact = False
        member.user = None
        member.erased_at = timezone.now()
        member.save()
        # Only blanking a reason gets past the status history's append-only trigger.
        MemberStatusChange.objects.filter(member=member).exclude(reason="").update(reason="")
        Notification.objects.filter(
            member=member,
            status__in=[NotificationStatus.PENDING, NotificationStatus.SENDING],
        ).update(status=NotificationStatus.SUPPRESSED, last_error="erased")
        Notification.objects.filter(member=member).update(subject="", body="")
        _erase_admin_history(member)
        for hook in registry.erasure_hooks():
            hook(member, actor)
    return member


def _erase_login(member: Member) -> None:
    """Her account stays as a row (audit rows and ledger rows name it as their author),
    with nothing left that identifies her or lets anyone in."""
    user = member.user
    if user is None:
        return
    username = user.get_username()
    end_sessions(user.pk)
    for device in devices_for_user(user, confirmed=None):
        device.delete()
    SetPasswordCode.objects.filter(user=user).delete()
    if apps.is_installed("axes"):  # failed sign-ins keep the username and an address
        from axes.models import AccessAttempt, AccessFailureLog, AccessLog

        for model in (AccessAttempt, AccessFailureLog, AccessLog):
            model.objects.filter(username=username).delete()
    get_user_model().objects.filter(pk=user.pk).update(
        username=f"erased-{uuid.uuid4().hex}",
        password=make_password(None),  # an unusable one
        email="",
        first_name="",
        last_name="",
        is_active=False,
    )


def _erase_admin_history(member: Member) -> None:
    """The Django admin's history names a record by its str(): her old working name."""
    if not apps.is_installed("django.contrib.admin"):
        return
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Member), object_id=str(member.pk)
    ).update(object_repr=member.working_name, change_message="")
