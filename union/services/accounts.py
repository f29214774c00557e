"""A person's own sign-in: setting up the second factor that office bearers must use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from union.models import AuditAction
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
