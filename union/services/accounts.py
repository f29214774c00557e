"""A person's own sign-in: the second factor that office bearers must use, and the login
following the member's status."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from union.models import LOGIN_ENDING_STATUSES, AuditAction, Member
from union.services.audit import record_access, record_member_access

if TYPE_CHECKING:
    from django.contrib.auth.models import User

WRONG_CODE = _("That code is not right, or it has expired. Try the newest code.")


def start_two_factor(*, user: User) -> TOTPDevice:
    """The authenticator `user` is setting up: the one waiting for its first code (so a
    reload shows the same QR code), or a new one with a fresh secret.

    Nothing is audited yet: the device protects nothing until confirm_two_factor.
    """
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def confirm_two_factor(*, user: User, device: TOTPDevice, token: str) -> TOTPDevice:
    """Confirm `user`'s new authenticator with a code it shows; from now on it guards the account.

    The same user's other half-set-up authenticators are removed (an abandoned QR code
    must not become a way in later). Confirming an authenticator that is already confirmed
    checks the code and changes nothing. A wrong, reused or expired code raises
    ValidationError and confirms nothing; it still counts towards django-otp's limit on
    failed attempts. Side effects: one audit row, on the first confirmation only.
    """
    if device.user_id != user.pk:
        raise PermissionDenied
    with transaction.atomic():
        # The lock makes a code usable once even by two requests at the same moment:
        # the second one sees the first one's last_t and is refused as a replay.
        locked = TOTPDevice.objects.select_for_update().filter(pk=device.pk).first()
        if locked is None:  # removed as a leftover since the QR code was shown
            raise ValidationError(WRONG_CODE, code="token")
        verified = bool(token) and locked.verify_token(token)
        if verified and not locked.confirmed:
            locked.confirmed = True
            locked.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=user, confirmed=False).delete()
            _audit_two_factor(user)
    # Raised outside the block: verify_token has saved the failed attempt, which must stay.
    if not verified:
        raise ValidationError(WRONG_CODE, code="token")
    return locked


def _audit_two_factor(user: User) -> None:
    member = getattr(user, "member", None)
    if member is not None:
        record_member_access(actor=user, action=AuditAction.TWO_FACTOR, member=member)
    else:  # a superuser without a member record
        record_access(actor=user, action=AuditAction.TWO_FACTOR, target=f"user:{user.pk}")


def match_login_to_status(member: Member) -> None:
    """Let the member's login in or keep it out as her status says: a status that ends
    membership rights (LOGIN_ENDING_STATUSES) makes the login inactive, which Django's
    backend refuses at sign-in and on every request of a session already open; any other
    status lets it in again. Call in the transaction that changes the status. Side effect:
    her open sessions are deleted too, so a later reinstatement does not bring them back."""
    if member.user_id is None:
        return
    active = member.status not in LOGIN_ENDING_STATUSES
    changed = (
        get_user_model()
        .objects.filter(pk=member.user_id)
        .exclude(is_active=active)
        .update(is_active=active)
    )
    if changed and not active:
        end_sessions(member.user_id)


def end_sessions(user_id: int) -> int:
    """Delete every live session of one user; how many. Sessions are not indexed by user,
    so this reads the live ones (expired sessions are deleted on a schedule): it runs on
    the rare change that ends a login, never on a page."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    wanted = str(user_id)
    ended = 0
    live = Session.objects.filter(expire_date__gt=timezone.now()).values_list(
        "session_key", "session_data"
    )
    decoder = store()
    for key, data in live.iterator(chunk_size=500):
        if str(decoder.decode(data).get(SESSION_KEY)) == wanted:
            store(session_key=key).delete()  # the cache copy too
            ended += 1
    return ended
