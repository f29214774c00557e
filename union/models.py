"""The union's core records: branches, members, roles, the audit log and the outbox.

Important models are written only through union.services; nothing else calls .save()
on them. Sensitive member fields are encrypted at rest (union.crypto).
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from union.crypto import EncryptedTextField


class AppendOnlyModel(models.Model):
    """Rows are written once. PostgreSQL also refuses UPDATE and DELETE (see migrations)."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError(f"{type(self).__name__} rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(f"{type(self).__name__} rows are append-only.")


# An operator's name as a branch sets it up: it starts with a letter, so no spreadsheet
# ever reads it as a formula.
OPERATOR_NAME = re.compile(r"^[^\W\d_][\w .'&-]{0,39}$")


class Branch(models.Model):
    """A town or province branch, or the single national level above them."""

    code = models.CharField(_("code"), max_length=8, unique=True)
    name = models.CharField(_("name"), max_length=100)
    region = models.CharField(_("town or province"), max_length=100, blank=True)
    is_national = models.BooleanField(_("national level"), default=False)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="branches"
    )
    currency = models.CharField(_("currency"), max_length=3, default="XOF")  # ISO 4217
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")
    languages = models.JSONField(_("languages"), default=list)  # language codes, first = main
    # What anyone may know, shown on the public site and the join thank-you page.
    public_helpline = models.CharField(_("helpline"), max_length=32, blank=True)
    public_address = models.TextField(_("drop-in centre address"), blank=True)
    public_hours = models.CharField(_("opening hours"), max_length=200, blank=True)
    # The mobile-money operators the branch takes dues through ("Orange Money"): officers
    # choose one of these, never free text (it reaches the ledger and its exports).
    mobile_money_providers = models.JSONField(
        _("mobile-money operators"),
        default=list,
        blank=True,
        help_text=_('One name per operator, e.g. ["Orange Money", "Moov Money"].'),
    )
    next_member_seq = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["code"]
        verbose_name = _("branch")
        verbose_name_plural = _("branches")
        constraints = [
            models.UniqueConstraint(
                fields=["is_national"], condition=Q(is_national=True), name="one_national_level"
            ),
            models.CheckConstraint(
                condition=Q(code__regex=r"^[A-Z]{2,8}$"), name="branch_code_upper_letters"
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="branch_currency_iso"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        providers = self.mobile_money_providers
        if not isinstance(providers, list) or not all(
            isinstance(name, str) and OPERATOR_NAME.match(name) for name in providers
        ):
            raise ValidationError(
                {
                    "mobile_money_providers": _(
                        "Give a list of operator names: letters, digits, spaces, dots, "
                        "apostrophes, ampersands and hyphens, starting with a letter."
                    )
                }
            )

    def mobile_money_provider(self, typed: str) -> str | None:
        """The branch's own spelling of the operator `typed` names (any case), or None."""
        wanted = " ".join(typed.split()).casefold()
        return next((p for p in self.mobile_money_providers if p.casefold() == wanted), None)

    @property
    def has_public_contact(self) -> bool:
        return bool(self.public_helpline or self.public_address or self.public_hours)

    @property
    def main_language(self) -> str:
        """The branch's main language (what the system writes in for it), else the one in
        use."""
        return self.languages[0] if self.languages else translation.get_language() or "en"


class MemberStatus(models.TextChoices):
    APPLICANT = "applicant", _("Applicant")
    ACTIVE = "active", _("Active")
    LAPSED = "lapsed", _("Lapsed")
    SUSPENDED = "suspended", _("Suspended")
    RESIGNED = "resigned", _("Resigned")
    DECEASED = "deceased", _("Deceased")
    REJECTED = "rejected", _("Rejected")


# The allowed status transitions; every other move is refused by the services.
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    MemberStatus.APPLICANT: frozenset({MemberStatus.ACTIVE, MemberStatus.REJECTED}),
    MemberStatus.ACTIVE: frozenset(
        {MemberStatus.LAPSED, MemberStatus.SUSPENDED, MemberStatus.RESIGNED, MemberStatus.DECEASED}
    ),
    MemberStatus.LAPSED: frozenset(
        {MemberStatus.ACTIVE, MemberStatus.SUSPENDED, MemberStatus.RESIGNED, MemberStatus.DECEASED}
    ),
    MemberStatus.SUSPENDED: frozenset(
        {MemberStatus.ACTIVE, MemberStatus.RESIGNED, MemberStatus.DECEASED}
    ),
    MemberStatus.RESIGNED: frozenset(),
    MemberStatus.DECEASED: frozenset(),
    MemberStatus.REJECTED: frozenset(),
}


class ContactPreference(models.TextChoices):
    NONE = "none", _("Do not contact me")
    SMS = "sms", _("Text message (SMS)")
    CALL = "call", _("Phone call")
    EMAIL = "email", _("Email")


class RegistrationSource(models.TextChoices):
    PUBLIC = "public", _("Public application")
    ASSISTED = "assisted", _("Registered by an office bearer")
    IMPORT = "import", _("Imported register")


class Member(models.Model):
    """A member or applicant. Only the working name is required; most screens show nothing else."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # NULL, not "", until approval: many applicants share "no number yet" under UNIQUE.
    number = models.CharField(  # noqa: DJ001
        _("membership number"), max_length=20, null=True, unique=True
    )
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="members", verbose_name=_("branch")
    )
    working_name = models.CharField(_("working name"), max_length=100)
    legal_name = EncryptedTextField(_("legal name"), blank=True, default="")
    phone = EncryptedTextField(_("phone"), blank=True, default="")  # E.164 once normalised
    phone_hash = models.CharField(  # noqa: DJ001 - NULL (no phone) is outside the unique index
        max_length=64, null=True, blank=True, editable=False
    )
    # A number the member gave on their profile that is already someone else's: never used,
    # not unique, kept only to show them what they typed (union.services.members).
    pending_phone = EncryptedTextField(blank=True, default="", db_default="", editable=False)
    email = EncryptedTextField(_("email"), blank=True, default="")
    notes = EncryptedTextField(_("notes"), blank=True, default="")
    preferred_language = models.CharField(
        _("preferred language"), max_length=10, default="en", choices=settings.LANGUAGES
    )
    contact_preference = models.CharField(
        _("contact preference"),
        max_length=8,
        choices=ContactPreference.choices,
        default=ContactPreference.NONE,
    )
    consent_sms = models.BooleanField(_("agrees to SMS alerts"), default=False)
    consent_crisis_contact = models.BooleanField(
        _("agrees to be contacted by the crisis team"), default=False
    )
    status = models.CharField(
        _("status"), max_length=10, choices=MemberStatus.choices, default=MemberStatus.APPLICANT
    )
    status_changed_at = models.DateTimeField(default=timezone.now)
    joined_on = models.DateField(_("joined"), null=True, blank=True)
    applied_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=8, choices=RegistrationSource.choices)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="member",
    )
    # Set when the member's personal details were erased at her request (her working name
    # is then her number): union.services.erasure.
    erased_at = models.DateTimeField(_("details erased"), null=True, blank=True, editable=False)
    # Set when a first role is given (union.apps), never unset: while False there are no
    # roles to look up on each page (union.permissions.current_roles). Fails closed.
    has_held_role = models.BooleanField(default=False, db_default=False, editable=False)

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        constraints = [
            models.UniqueConstraint(
                fields=["phone_hash"], condition=Q(phone_hash__isnull=False), name="unique_phone"
            ),
            models.CheckConstraint(
                condition=Q(number__isnull=True) | ~Q(status=MemberStatus.APPLICANT),
                name="applicants_have_no_number",
            ),
            models.CheckConstraint(condition=~Q(working_name=""), name="working_name_required"),
        ]
        indexes = [
            # Keyset pagination of the register: (branch filter, sort key, id).
            models.Index(fields=["branch", "working_name", "id"], name="member_branch_name"),
            models.Index(fields=["working_name", "id"], name="member_name"),
            models.Index(fields=["branch", "status", "id"], name="member_branch_status"),
            models.Index(fields=["joined_on", "id"], name="member_joined"),
        ]

    def __str__(self) -> str:
        return self.working_name

    @property
    def is_applicant(self) -> bool:
        return self.status == MemberStatus.APPLICANT


class MemberStatusChange(AppendOnlyModel):
    """The recorded history of a member's status."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="status_history")
    from_status = models.CharField(max_length=10, choices=MemberStatus.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=MemberStatus.choices)
    reason = EncryptedTextField(blank=True, default="")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["changed_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status}"


class MemberMove(AppendOnlyModel):
    """A member's move from one branch to another, taken in by the receiving branch.

    She keeps her membership number (it is her login, it is on her card, her receipts and
    past rolls): `number` records it as it was at the move. Her status history and audit
    trail stay hers (they point at the member, not at a branch). `seq` numbers her moves
    1, 2, 3...: two officers taking her in at the same moment compute the same `seq`, and
    the unique index lets only one of them in.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="moves")
    seq = models.PositiveSmallIntegerField()
    from_branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="moves_out", verbose_name=_("from")
    )
    to_branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="moves_in", verbose_name=_("to")
    )
    number = models.CharField(_("membership number"), max_length=20)
    moved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    moved_at = models.DateTimeField(_("moved"), default=timezone.now)

    class Meta:
        ordering = ["moved_at", "id"]
        verbose_name = _("move to another branch")
        verbose_name_plural = _("moves to another branch")
        constraints = [
            models.UniqueConstraint(fields=["member", "seq"], name="one_move_at_a_time"),
            models.CheckConstraint(
                condition=~Q(from_branch=models.F("to_branch")), name="move_changes_branch"
            ),
            models.CheckConstraint(condition=Q(seq__gte=1), name="move_seq_from_one"),
        ]
        indexes = [
            models.Index(fields=["from_branch", "moved_at"], name="move_from_branch"),
            models.Index(fields=["to_branch", "moved_at"], name="move_to_branch"),
        ]

    def __str__(self) -> str:
        return f"move {self.member_id}#{self.seq}"


class Role(models.TextChoices):
    SECRETARY = "secretary", _("Secretary")
    TREASURER = "treasurer", _("Treasurer")
    CRISIS_RESPONDER = "crisis_responder", _("Crisis responder")
    CRISIS_COORDINATOR = "crisis_coordinator", _("Crisis coordinator")
    WELFARE_COMMITTEE = "welfare_committee", _("Welfare committee member")
    EDITOR = "editor", _("Editor")
    NATIONAL_COORDINATOR = "national_coordinator", _("National coordinator")
    NATIONAL_BOARD = "national_board", _("National board")


NATIONAL_ROLES = frozenset({Role.NATIONAL_COORDINATOR, Role.NATIONAL_BOARD})

# A role is in force only while its holder is a member with rights: suspending, resigning
# or recording a death ends the powers of every role at once, without editing the roles.
ROLE_HOLDING_STATUSES = (MemberStatus.ACTIVE, MemberStatus.LAPSED)
# These end the login too (union.services.accounts.match_login_to_status): no sign-in, open
# sessions end. Lapsing for unpaid dues is not among them: a lapsed member keeps her login.
LOGIN_ENDING_STATUSES = frozenset(
    {MemberStatus.SUSPENDED, MemberStatus.RESIGNED, MemberStatus.DECEASED}
)


class RoleAssignmentQuerySet(models.QuerySet["RoleAssignment"]):
    def current(self, on: date | None = None) -> RoleAssignmentQuerySet:
        """The one definition of a role in force: within its dates (inclusive) on `on`
        (default today), held by a member whose status keeps their roles."""
        today = on or timezone.localdate()
        return self.filter(member__status__in=ROLE_HOLDING_STATUSES, starts_on__lte=today).filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=today)
        )


class RoleAssignment(models.Model):
    """A member holding a role in a branch (or at the national level) between two dates.

    The dates are inclusive; a role with no end date runs until it is ended.
    """

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="roles")
    role = models.CharField(_("role"), max_length=24, choices=Role.choices)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="role_assignments")
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = RoleAssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["branch__code", "role", "starts_on"]
        indexes = [models.Index(fields=["member", "ends_on"], name="role_member_end")]

    def __str__(self) -> str:
        return f"{self.get_role_display()} ({self.branch})"

    @property
    def is_open(self) -> bool:
        """Not ended yet (it may also not have started): it can still be ended."""
        return self.ends_on is None or self.ends_on >= timezone.localdate()


class AuditAction(models.TextChoices):
    """The core's audit actions. Other apps declare theirs in <app>/audit.py and register
    them (union.registry.register_audit_actions); the audit row stores the name only."""

    MEMBER_VIEW = "member.view", _("Viewed a member")
    MEMBER_REGISTER = "member.register", _("Registered an applicant")
    MEMBER_APPROVE = "member.approve", _("Approved an applicant")
    MEMBER_REJECT = "member.reject", _("Rejected an applicant")
    MEMBER_STATUS = "member.status", _("Changed a member's status")
    MEMBER_EDIT = "member.edit", _("Edited a member")
    PHONE_REFUSED = "member.phone_taken", _("Gave a phone number already on the register")
    MEMBER_ERASE = "member.erase", _("Erased a member's personal details")
    MEMBER_DATA = "member.data_copy", _("Gave a member a copy of their data")
    MEMBER_EXPORT = "member.export", _("Exported the register")
    MEMBER_IMPORT = "member.import", _("Imported a register")
    MEMBER_MOVE = "member.move", _("Moved a member to another branch")
    ROLE_ASSIGN = "role.assign", _("Assigned a role")
    ROLE_END = "role.end", _("Ended a role")
    LOGIN_CODE = "account.code", _("Issued a set-password code")
    TWO_FACTOR = "account.2fa", _("Set up a second factor")
    BRANCH_EDIT = "branch.edit", _("Changed a branch's public contact details")


class AuditEvent(AppendOnlyModel):
    """Who viewed, exported or changed what, and how many rows. Never personal data."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    # A registered name (union.registry); no database choices, so a new app's actions
    # need no migration of the core. record_access refuses an unregistered one.
    action = models.CharField(max_length=32)
    branch = models.ForeignKey(Branch, null=True, on_delete=models.PROTECT, related_name="+")
    # An opaque reference such as "member:<uuid>" or "role:<id>"; never a name.
    target = models.CharField(max_length=64, blank=True)
    rows = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["target", "at"], name="audit_target")]

    def __str__(self) -> str:
        return f"{self.action} {self.target}"

    @property
    def action_label(self) -> Any:
        from union.registry import audit_action_label

        return audit_action_label(self.action)


class SetPasswordCode(models.Model):
    """A one-time code that lets a new member choose a password. Only its hash is kept."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    code_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"set-password code {self.pk}"


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("Email")


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    # Handed to the provider, whose answer was lost: never sent again unless the provider
    # says it has no such message (union.notifications.services.reconcile).
    UNCERTAIN = "uncertain", _("Sent, not confirmed by the provider")
    FAILED = "failed", _("Failed")
    SUPPRESSED = "suppressed", _("Not sent (no consent or no way to reach)")


class Notification(models.Model):
    """The outbox: every message to a member is a row here first, then a task sends it.

    dedupe_key makes a message to one member for one reason exist once, however often
    the code that asks for it runs.
    """

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="notifications")
    kind = models.CharField(max_length=32)
    channel = models.CharField(max_length=5, choices=Channel.choices, blank=True)
    subject = EncryptedTextField(blank=True, default="")
    body = EncryptedTextField()
    dedupe_key = models.CharField(max_length=100, unique=True)
    status = models.CharField(
        max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_ref = models.CharField(max_length=100, blank=True)
    last_error = models.CharField(max_length=200, blank=True)  # provider codes, never content

    class Meta:
        indexes = [
            models.Index(fields=["status", "created_at"], name="notification_queue"),
            # Delivery reports name the provider's reference and nothing else.
            models.Index(
                fields=["provider_ref"], condition=~Q(provider_ref=""), name="notification_ref"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} ({self.status})"


class ImportJobStatus(models.TextChoices):
    CHECKING = "checking", _("Checking the file")
    PREVIEWED = "previewed", _("Waiting for your confirmation")
    IMPORTING = "importing", _("Importing")
    DONE = "done", _("Imported")
    FAILED = "failed", _("Not imported")
    CANCELLED = "cancelled", _("Cancelled")


class ImportJob(models.Model):
    """A register import run by a worker (union.imports.jobs): where it stands.

    The file itself is in the private storage under `token`, encrypted; only its
    extension is kept (a file name can be personal). `preview` holds what the preview
    page shows: counts and the first rows (line, number, working name, branch code, what
    happens or what is wrong).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    default_branch = models.ForeignKey(
        Branch, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=4)  # csv or xlsx
    token = models.CharField(max_length=64)
    sha256 = models.CharField(max_length=64)
    language = models.CharField(max_length=8, blank=True)  # the officer's, for the messages
    status = models.CharField(
        max_length=12, choices=ImportJobStatus.choices, default=ImportJobStatus.CHECKING
    )
    signature = models.CharField(max_length=64, blank=True)  # the previewed plan's
    rows_read = models.PositiveIntegerField(default=0)
    rows_checked = models.PositiveIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    preview = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)  # times queued again by the sweeper
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["status", "updated_at"], name="importjob_queue")]

    def __str__(self) -> str:
        return f"import {self.pk} ({self.status})"

    @property
    def running(self) -> bool:
        return self.status in (ImportJobStatus.CHECKING, ImportJobStatus.IMPORTING)


class ExportJobStatus(models.TextChoices):
    RUNNING = "running", _("Preparing the file")
    DONE = "done", _("Ready to download")
    FAILED = "failed", _("Not exported")
    EXPIRED = "expired", _("Expired")


class ExportJob(models.Model):
    """A large register export made by a worker (union.imports.export_jobs).

    The file waits, encrypted, in the private storage under `token` until it is
    downloaded or expires; the audit row is written when it is made, as for any export.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    branch = models.ForeignKey(
        Branch, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    fmt = models.CharField(max_length=4)  # csv or xlsx
    status = models.CharField(
        max_length=8, choices=ExportJobStatus.choices, default=ExportJobStatus.RUNNING
    )
    rows = models.PositiveIntegerField(default=0)  # members in the file
    filename = models.CharField(max_length=100, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    token = models.CharField(max_length=64, blank=True)
    error = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["status", "updated_at"], name="exportjob_queue")]

    def __str__(self) -> str:
        return f"export {self.pk} ({self.status})"

    @property
    def running(self) -> bool:
        return self.status == ExportJobStatus.RUNNING
