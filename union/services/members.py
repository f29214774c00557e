"""Member register operations: applications, approval, status changes, contact details."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from union import permissions
from union.crypto import keyed_hash
from union.models import (
    STATUS_TRANSITIONS,
    AuditAction,
    Branch,
    Member,
    MemberStatus,
    MemberStatusChange,
    RegistrationSource,
    SetPasswordCode,
)
from union.notifications.services import tell_officers
from union.permissions import Perm
from union.services.accounts import match_login_to_status
from union.services.audit import record_access, record_member_access
from union.validators import validate_person_names

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

# Codes are read aloud and copied by hand: no 0/O, 1/I/L.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
CODE_MAX_FAILURES = 5


@dataclass(frozen=True)
class ContactDetails:
    """The optional, sensitive part of a registration. Phone must already be normalised."""

    legal_name: str = ""
    phone: str = ""
    email: str = ""
    notes: str = ""


def _phone_hash(phone: str) -> str | None:
    return keyed_hash(phone) if phone else None


def phone_in_use(phone: str, *, exclude_member_id: int | None = None) -> bool:
    if not phone:
        return False
    qs = Member.objects.filter(phone_hash=keyed_hash(phone))
    if exclude_member_id is not None:
        qs = qs.exclude(id=exclude_member_id)
    return qs.exists()


def _is_phone_conflict(exc: IntegrityError) -> bool:
    return "unique_phone" in str(exc) or "phone_hash" in str(exc)


def _note_phone_refused(member: Member, *, actor: User | AnonymousUser | None) -> None:
    """The answer to a phone number already on the register, on every path: the number is
    not kept, a dated note in the branch's language tells the member's own branch officers
    (who see notes), and the refusal is audited, without the number. Nobody is told: the
    person saving gets the same answer as with a free number. Saves the notes."""
    with translation.override(member.branch.main_language):
        note = _(
            "%(date)s: a phone number given for this person is already on the register, so "
            "it was not kept. Check it with them in person."
        ) % {"date": timezone.localdate().isoformat()}
    member.notes = f"{member.notes.rstrip()}\n{note}" if member.notes.strip() else note
    member.save(update_fields=["notes"])
    record_member_access(actor=actor, action=AuditAction.PHONE_REFUSED, member=member)


def _keep_phone(member: Member, phone: str) -> bool:
    """Give the member this number if no one else holds it; False (nothing written) if
    someone does. Two savers of one number at the same moment both pass phone_in_use();
    the unique index stops the second, which is then answered like the first check would
    have been. Call inside a transaction (the savepoint keeps it usable)."""
    if phone_in_use(phone, exclude_member_id=member.pk):
        return False
    member.phone, member.phone_hash = phone, _phone_hash(phone)
    try:
        with transaction.atomic():
            member.save(update_fields=["phone", "phone_hash"])
    except IntegrityError as exc:
        if not _is_phone_conflict(exc):
            raise
        member.refresh_from_db(fields=["phone", "phone_hash"])
        return False
    return True


def register_applicant(
    *,
    actor: User | AnonymousUser | None,
    branch: Branch,
    working_name: str,
    preferred_language: str,
    contact_preference: str,
    contact: ContactDetails,
    consent_sms: bool = False,
    consent_crisis_contact: bool = False,
) -> Member:
    """Create an applicant, from the public join form (actor None) or assisted by an officer.

    Officers need REGISTER_MEMBER for the branch; the public form cannot set notes.
    Side effect: the officers who approve applications are told one waits (those who
    agreed to messages; the others see it on their office home).
    Neither path tells whether a phone number is already on the register (anyone could use
    it to check a number against the union's members): the application goes in without
    the number, with a note that only the branch's officers see (_note_phone_refused).
    """
    validate_person_names(working_name=working_name, legal_name=contact.legal_name)
    officer = actor if actor is not None and actor.is_authenticated else None
    assisted = officer is not None
    if officer is not None:
        permissions.require(officer, Perm.REGISTER_MEMBER, branch.id)
    if branch.is_national:
        raise ValidationError(_("Members join a branch, not the national level."))
    with transaction.atomic():
        member = Member.objects.create(
            branch=branch,
            working_name=working_name.strip(),
            legal_name=contact.legal_name.strip(),
            email=contact.email.strip(),
            notes=contact.notes.strip() if assisted else "",
            preferred_language=preferred_language,
            contact_preference=contact_preference,
            consent_sms=consent_sms,
            consent_crisis_contact=consent_crisis_contact,
            source=RegistrationSource.ASSISTED if assisted else RegistrationSource.PUBLIC,
        )
        MemberStatusChange.objects.create(
            member=member,
            from_status="",
            to_status=MemberStatus.APPLICANT,
            changed_by=officer,
        )
        if assisted:
            record_access(
                actor=actor,
                action=AuditAction.MEMBER_REGISTER,
                target=f"member:{member.public_id}",
                branch=branch,
            )
        if contact.phone and not _keep_phone(member, contact.phone):
            _note_phone_refused(member, actor=actor)
        tell_officers(
            queue="union.applicants",
            branch_id=branch.pk,
            perm=Perm.APPROVE_MEMBER,
            about=f"member:{member.public_id}",
            exclude_user_id=officer.pk if officer is not None else None,
        )
    return member


def next_membership_number(branch: Branch) -> str:
    """Issue the branch's next number. Call inside a transaction: it locks the branch row."""
    locked = Branch.objects.select_for_update().get(pk=branch.pk)
    seq = locked.next_member_seq
    Branch.objects.filter(pk=branch.pk).update(next_member_seq=seq + 1)
    return f"{locked.code}-{seq:0{settings.MEMBERSHIP_NUMBER_DIGITS}d}"


@dataclass(frozen=True)
class Approval:
    member: Member
    set_password_code: str | None  # shown once to the officer to print or read out


def approve_applicant(
    *,
    actor: User | None,
    member: Member,
    create_login: bool,
    joined_on: date | None = None,
) -> Approval:
    """Make an applicant an active member with a number; optionally create their login.

    actor None is a setup command (the demo loader). Side effects: a welcome message
    (and the set-password code, if a login was made) queued in the outbox for members
    who chose a way to be contacted.
    """
    from union.notifications.services import notify_member

    if actor is not None:
        permissions.require(actor, Perm.APPROVE_MEMBER, member.branch_id)
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)
        if member.status != MemberStatus.APPLICANT:
            raise ValidationError(_("This person is not waiting for approval any more."))
        member.number = next_membership_number(member.branch)
        member.joined_on = joined_on or timezone.localdate()
        _set_status(member, MemberStatus.ACTIVE, actor=actor, reason="")
        member.save(update_fields=["number", "joined_on", "status", "status_changed_at"])
        code = None
        if create_login:
            code = _create_login(member)
        record_member_access(actor=actor, action=AuditAction.MEMBER_APPROVE, member=member)
        notify_member(
            member=member,
            kind="welcome",
            dedupe_key=f"welcome:{member.pk}",
            context={"number": member.number, "code": code},
        )
    return Approval(member=member, set_password_code=code)


def reject_applicant(*, actor: User, member: Member, reason: str) -> Member:
    permissions.require(actor, Perm.APPROVE_MEMBER, member.branch_id)
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason for the rejection.")})
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)
        if member.status != MemberStatus.APPLICANT:
            raise ValidationError(_("This person is not waiting for approval any more."))
        _set_status(member, MemberStatus.REJECTED, actor=actor, reason=reason.strip())
        member.save(update_fields=["status", "status_changed_at"])
        record_member_access(actor=actor, action=AuditAction.MEMBER_REJECT, member=member)
    return member


def _set_status(member: Member, to: str, *, actor: Any, reason: str) -> None:
    if to not in STATUS_TRANSITIONS[member.status]:
        raise ValidationError(
            _("A member cannot go from %(old)s to %(new)s.")
            % {"old": member.get_status_display(), "new": MemberStatus(to).label}
        )
    MemberStatusChange.objects.create(
        member=member,
        from_status=member.status,
        to_status=to,
        reason=reason,
        changed_by=actor if actor is not None and actor.is_authenticated else None,
    )
    member.status = to
    member.status_changed_at = timezone.now()


def change_member_status(
    *, actor: User | None, member: Member, to: str, reason: str = ""
) -> Member:
    """Move a member along the status machine; a no-op if they already have that status.

    actor None is the system itself (the dues run lapsing and reinstating members).
    Side effect: a status that ends membership rights ends her login and open sessions,
    reinstatement lets the login in again (accounts.match_login_to_status), in this
    transaction.
    """
    if actor is not None:
        permissions.require(actor, Perm.CHANGE_STATUS, member.branch_id)
        if to in (MemberStatus.ACTIVE, MemberStatus.REJECTED) and member.is_applicant:
            raise ValidationError(_("Use the applicant queue to approve or reject."))
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)
        if member.status == to:
            return member
        _set_status(member, to, actor=actor, reason=reason.strip())
        member.save(update_fields=["status", "status_changed_at"])
        match_login_to_status(member)
        record_member_access(actor=actor, action=AuditAction.MEMBER_STATUS, member=member)
    return member


def update_contact_details(
    *,
    actor: User,
    member: Member,
    contact: ContactDetails,
    preferred_language: str,
    contact_preference: str,
    consent_sms: bool,
    consent_crisis_contact: bool,
) -> Member:
    """Officers with VIEW_CONTACT, or members themselves, change contact details.

    A phone number already on the register is answered as on the join form: saved like any
    other as far as the person saving can tell, not kept, noted for the member's branch
    officers, audited (_note_phone_refused). A member's own refused number is kept aside
    in pending_phone, never used, only so that their profile shows what they typed (the
    page would tell otherwise); any number kept later clears it.
    """
    validate_person_names(legal_name=contact.legal_name)
    own_member = getattr(actor, "member", None)
    own = own_member is not None and own_member.pk == member.pk
    if not own:
        permissions.require(actor, Perm.VIEW_CONTACT, member.branch_id)
    with transaction.atomic():
        member = Member.objects.select_for_update().select_related("branch").get(pk=member.pk)
        member.legal_name = contact.legal_name.strip()
        member.email = contact.email.strip()
        fields = ["legal_name", "email", "preferred_language"]
        if not own:
            member.notes = contact.notes.strip()
            fields.append("notes")
        member.preferred_language = preferred_language
        member.contact_preference = contact_preference
        member.consent_sms = consent_sms
        member.consent_crisis_contact = consent_crisis_contact
        fields += ["contact_preference", "consent_sms", "consent_crisis_contact"]
        member.save(update_fields=fields)
        record_member_access(actor=actor, action=AuditAction.MEMBER_EDIT, member=member)
        _change_phone(member, contact.phone, actor=actor, own=own)
    return member


def _change_phone(member: Member, phone: str, *, actor: User, own: bool) -> None:
    if own and phone and phone == member.pending_phone:
        return  # the member's refused number, sent again with the rest of the form
    if phone == member.phone or _keep_phone(member, phone):
        if member.pending_phone:
            member.pending_phone = ""
            member.save(update_fields=["pending_phone"])
        return
    if own:
        member.pending_phone = phone
        member.save(update_fields=["pending_phone"])
    _note_phone_refused(member, actor=actor)


def _create_login(member: Member) -> str:
    """Create the member's account (username = membership number) and a set-password code."""
    UserModel = get_user_model()
    user = member.user
    if user is None:
        user = UserModel(username=str(member.number))
        user.set_unusable_password()
        user.save()
        member.user = user
        member.save(update_fields=["user"])
    return _new_code(user)


def _new_code(user: User) -> str:
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    SetPasswordCode.objects.filter(user=user, used_at__isnull=True).update(
        expires_at=timezone.now()
    )
    SetPasswordCode.objects.create(
        user=user,
        code_hash=keyed_hash(code),
        expires_at=timezone.now() + timedelta(hours=settings.SET_PASSWORD_CODE_HOURS),
    )
    return code


def issue_set_password_code(*, actor: User, member: Member) -> str:
    """A fresh code for a member (a first login, or a forgotten password). Old codes stop working.

    Creates the login if the member has none yet.
    """
    permissions.require(actor, Perm.APPROVE_MEMBER, member.branch_id)
    if member.status not in (MemberStatus.ACTIVE, MemberStatus.LAPSED):
        raise ValidationError(_("Only active or lapsed members can have a login."))
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)
        code = _create_login(member)
        record_member_access(actor=actor, action=AuditAction.LOGIN_CODE, member=member)
    return code


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def set_password_with_code(*, username: str, code: str, password: str) -> User:
    """Spend a set-password code. Wrong codes count against the newest code for that account."""
    UserModel = get_user_model()
    invalid = ValidationError(
        _("That membership number and code do not match, or the code ran out.")
    )
    with transaction.atomic():
        user = UserModel.objects.filter(username=username.strip().upper()).first()
        if user is None:
            raise invalid
        now = timezone.now()
        live = (
            SetPasswordCode.objects.select_for_update()
            .filter(user=user, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if live is None or live.failed_attempts >= CODE_MAX_FAILURES:
            raise invalid
        wrong = live.code_hash != keyed_hash(normalise_code(code))
        if wrong:
            # Counted and committed before the error is raised, or a guesser could retry forever.
            live.failed_attempts += 1
            live.save(update_fields=["failed_attempts"])
        else:
            live.used_at = now
            live.save(update_fields=["used_at"])
            user.set_password(password)
            user.save(update_fields=["password"])
    if wrong:
        raise invalid
    return user
