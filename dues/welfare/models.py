"""Welfare funds, their rules and ledger; applications, decisions, documents and payouts.

Amounts are integers in the minor unit of their currency (dues.money) with the currency
beside them. Fund rules, ledger rows, decisions, conflicts of interest, documents and
transfer approvals are written once: Python refuses (AppendOnlyModel) and so does
PostgreSQL (triggers in migration 0004). A payout may change once, from paid to reversed;
an application moves through its states only in dues.welfare.services.applications.
Balances and caps are derived from the rows, never stored.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from union.crypto import EncryptedTextField
from union.models import AppendOnlyModel, Branch, Member

__all__ = [
    "ApplicationDocument",
    "ApplicationStatus",
    "ConflictOfInterest",
    "Decision",
    "FeePayer",
    "Fund",
    "FundEntry",
    "FundEntryKind",
    "FundRule",
    "FundTransfer",
    "LoanRepayment",
    "PayeeKind",
    "Payout",
    "PayoutMethod",
    "PayoutStatus",
    "Purpose",
    "Review",
    "TransferApproval",
    "TransferStatus",
    "Verdict",
    "WelfareApplication",
    "WelfarePolicy",
]


class Purpose(models.TextChoices):
    """What a fund is for, and what an application asks help for."""

    EMERGENCY = "emergency", _("Emergency (violence, eviction, other urgent need)")
    MEDICAL = "medical", _("Medical care")
    FUNERAL = "funeral", _("Funeral")
    LEGAL = "legal", _("Legal help and bail")


class Fund(models.Model):
    """One welfare fund of a branch, or of the national level (which every branch in its
    currency pays a share into)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="welfare_funds", verbose_name=_("branch")
    )
    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose.choices)
    currency = models.CharField(_("currency"), max_length=3)  # ISO 4217, the branch's
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("welfare fund")
        constraints = [
            models.UniqueConstraint(fields=["branch", "purpose"], name="one_fund_per_purpose"),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="fund_currency_iso"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.branch.code} {self.purpose}"

    @property
    def label(self) -> str:
        return f"{self.branch.name}: {self.get_purpose_display()}"

    @property
    def available(self) -> int:
        """Minor units the fund can still grant: its balance less approved, unpaid grants.
        Only on funds read through dues.welfare.selectors.funds_with_figures."""
        balance: int = getattr(self, "balance")  # noqa: B009 - an annotation
        committed: int = getattr(self, "committed")  # noqa: B009
        return balance - committed


class FeePayer(models.TextChoices):
    FUND = "fund", _("The fund pays provider fees on top")
    PAYEE = "payee", _("Fees are taken from the amount sent")


class FundRule(AppendOnlyModel):
    """A fund's rules from a date on. A new rule is a new row; the one in force on a day is
    the latest whose effective date is not after it."""

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="rules")
    effective_from = models.DateField(_("in force from"))
    # The fund's share of every dues payment, in basis points (2000 = 20 %).
    share_bp = models.PositiveIntegerField(_("share of dues (basis points)"), default=0)
    max_payout = models.PositiveBigIntegerField(  # minor units; NULL = no limit
        _("most one payout may be"), null=True, blank=True
    )
    max_per_member_year = models.PositiveBigIntegerField(  # minor units over 12 months
        _("most one member may receive in 12 months"), null=True, blank=True
    )
    waiting_months = models.PositiveSmallIntegerField(_("months of dues paid first"), default=0)
    good_standing_required = models.BooleanField(_("good standing required"), default=True)
    fee_payer = models.CharField(
        _("who bears provider fees"), max_length=5, choices=FeePayer.choices, default=FeePayer.FUND
    )
    # Dues the member owes may be taken from a payout, up to this share of the grant, in
    # basis points (0 = never; below 10000, so something always reaches the payee).
    arrears_bp = models.PositiveIntegerField(
        _("arrears taken from a payout (basis points)"), default=0
    )
    # Each dependant the member supports raises the per-payout cap (and the 12-month cap)
    # by this many minor units, for at most max_dependants of them.
    per_dependant = models.PositiveBigIntegerField(_("more per dependant"), default=0)
    max_dependants = models.PositiveSmallIntegerField(_("dependants counted at most"), default=0)
    # The fund may lend, interest-free: a loan is paid like a grant and repaid in rows.
    loans = models.BooleanField(_("interest-free loans"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("fund rule")
        constraints = [
            models.UniqueConstraint(fields=["fund", "effective_from"], name="one_rule_per_day"),
            models.CheckConstraint(condition=Q(share_bp__lte=10000), name="rule_share_at_most_all"),
            models.CheckConstraint(
                condition=Q(max_payout__isnull=True) | Q(max_payout__gt=0),
                name="rule_max_payout_positive",
            ),
            models.CheckConstraint(
                condition=Q(max_per_member_year__isnull=True) | Q(max_per_member_year__gt=0),
                name="rule_member_cap_positive",
            ),
            models.CheckConstraint(
                condition=Q(waiting_months__lte=120), name="rule_waiting_bounded"
            ),
            models.CheckConstraint(
                condition=Q(arrears_bp__lt=10000), name="rule_arrears_below_all"
            ),
            models.CheckConstraint(
                condition=Q(max_dependants__lte=20), name="rule_dependants_bounded"
            ),
        ]

    def payout_cap(self, dependants: int) -> int | None:
        """The most one payout may be for a member with `dependants` (minor units)."""
        if self.max_payout is None:
            return None
        return self.max_payout + self.dependant_bonus(dependants)

    def member_cap(self, dependants: int) -> int | None:
        """The most a member with `dependants` may receive in 12 months (minor units)."""
        if self.max_per_member_year is None:
            return None
        return self.max_per_member_year + self.dependant_bonus(dependants)

    def dependant_bonus(self, dependants: int) -> int:
        return self.per_dependant * min(max(dependants, 0), self.max_dependants)

    def arrears_limit(self, granted: int) -> int:
        """The most of a grant that may go to the member's dues arrears (minor units)."""
        return granted * self.arrears_bp // 10000

    def __str__(self) -> str:
        return f"{self.fund} from {self.effective_from}"


class WelfarePolicy(models.Model):
    """A branch's decision rules (the national level has its own). Without a row: two
    approvers and no emergency path."""

    branch = models.OneToOneField(Branch, on_delete=models.PROTECT, related_name="welfare_policy")
    approvals_required = models.PositiveSmallIntegerField(_("approvals needed"), default=2)
    # The crisis coordinator's emergency path, in the branch's minor units; 0 = none.
    emergency_max_payout = models.PositiveBigIntegerField(
        _("emergency: most per payout"), default=0
    )
    emergency_max_per_coordinator_month = models.PositiveBigIntegerField(
        _("emergency: most per coordinator per month"), default=0
    )
    emergency_max_per_member_year = models.PositiveBigIntegerField(
        _("emergency: most per member in 12 months"), default=0
    )
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("welfare decision rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(approvals_required__gte=1, approvals_required__lte=7),
                name="policy_approvals_bounded",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.branch.code}: {self.approvals_required}"


class ApplicationStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the committee")
    NEEDS_INFO = "needs_info", _("More information needed")
    APPROVED = "approved", _("Approved, waiting for payment")
    REJECTED = "rejected", _("Not approved")
    PAID = "paid", _("Paid")


# The states in which an application is still open to decisions and edits.
OPEN_STATUSES = (ApplicationStatus.PENDING, ApplicationStatus.NEEDS_INFO)


class PayeeKind(models.TextChoices):
    MEMBER = "member", _("The member")
    NEXT_OF_KIN = "next_of_kin", _("Next of kin")
    COURT = "court", _("A court")
    LANDLORD = "landlord", _("A landlord")
    HOSPITAL = "hospital", _("A hospital or clinic")
    FUNERAL_HOME = "funeral_home", _("A funeral home")
    OTHER = "other", _("Someone else")


class PayoutMethod(models.TextChoices):
    CASH = "cash", _("Cash")
    MOBILE_MONEY = "mobile_money", _("Mobile money")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")


class Review(models.TextChoices):
    NONE = "", _("Not an emergency approval")
    PENDING = "pending", _("Waiting for the committee's review")
    UPHELD = "upheld", _("Upheld by the committee")
    REJECTED = "rejected", _("Rejected by the committee afterwards")


class WelfareApplication(models.Model):
    """A request for help from a fund, for a member, perhaps paid to someone else.

    `version` goes up with every change of amount, purpose or payee: approvals count only
    for the version they were given on, so an edit after an approval cancels it.
    Free text and payout details are encrypted; destination_hash (a keyed hash of the
    phone or account) lets the treasurer be warned of a destination used for others.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="welfare_requests")
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="applications")
    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose.choices)
    amount_requested = models.PositiveBigIntegerField(_("amount requested"))  # minor units
    amount_granted = models.PositiveBigIntegerField(  # minor units
        _("amount granted"), null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3)
    note = EncryptedTextField(_("what happened"), blank=True, default="")
    # Children and others the member supports: may raise the caps (FundRule.per_dependant).
    dependants = models.PositiveSmallIntegerField(_("dependants"), default=0)
    # An interest-free loan (where the fund's rules offer them): repaid in LoanRepayment rows.
    loan = models.BooleanField(_("as a loan, repaid later"), default=False)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=ApplicationStatus.choices,
        default=ApplicationStatus.PENDING,
    )
    version = models.PositiveIntegerField(default=1)
    emergency = models.BooleanField(_("emergency approval"), default=False)
    review = models.CharField(max_length=8, choices=Review.choices, default="", blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    decided_on = models.DateField(_("decision date"), null=True, blank=True)
    rule = models.ForeignKey(  # the fund's rule in force on the decision date
        FundRule, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    paid_on = models.DateField(_("payment date"), null=True, blank=True)
    question = EncryptedTextField(blank=True, default="")  # what the committee asked
    # Who receives the money, and how. Details are shown to the treasurer only.
    payee_kind = models.CharField(
        _("paid to"), max_length=12, choices=PayeeKind.choices, default=PayeeKind.MEMBER
    )
    payee_name = EncryptedTextField(_("payee"), blank=True, default="")
    payout_method = models.CharField(
        _("how to pay"), max_length=13, choices=PayoutMethod.choices, default=PayoutMethod.CASH
    )
    payout_provider = models.CharField(_("operator or bank"), max_length=40, blank=True)
    payout_destination = EncryptedTextField(_("phone or account"), blank=True, default="")
    destination_hash = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("welfare application")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_requested__gt=0), name="application_amount_positive"
            ),
            models.CheckConstraint(
                condition=Q(amount_granted__isnull=True)
                | Q(amount_granted__gt=0, amount_granted__lte=F("amount_requested")),
                name="granted_within_requested",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "paid"])
                | Q(amount_granted__isnull=False, decided_on__isnull=False, rule__isnull=False),
                name="approved_has_grant_and_date",
            ),
            models.CheckConstraint(
                condition=Q(status="paid", paid_on__isnull=False)
                | ~Q(status="paid") & Q(paid_on__isnull=True),
                name="paid_has_payment_date",
            ),
            models.CheckConstraint(
                condition=Q(emergency=False, review="") | Q(emergency=True) & ~Q(review=""),
                name="emergency_has_review",
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="application_currency_iso"
            ),
            models.CheckConstraint(
                condition=Q(dependants__lte=50), name="application_dependants_bounded"
            ),
        ]
        indexes = [
            models.Index(fields=["branch", "status", "id"], name="welfare_app_queue"),
            models.Index(fields=["member", "fund", "status"], name="welfare_app_member"),
            models.Index(fields=["fund", "status"], name="welfare_app_fund"),
            models.Index(
                fields=["destination_hash"],
                condition=~Q(destination_hash=""),
                name="welfare_app_destination",
            ),
        ]

    def __str__(self) -> str:
        return f"application {self.public_id}"

    @property
    def amount(self) -> int:
        """What the fund pays: the grant once decided, the request before."""
        return self.amount_granted if self.amount_granted is not None else self.amount_requested


class Verdict(models.TextChoices):
    APPROVE = "approve", _("Approved")
    REJECT = "reject", _("Rejected")
    NEEDS_INFO = "needs_info", _("Asked for more information")
    EMERGENCY = "emergency", _("Approved in an emergency")
    UPHOLD = "uphold", _("Upheld an emergency approval")
    OVERRULE = "overrule", _("Rejected an emergency approval afterwards")


class Decision(AppendOnlyModel):
    """One committee member's (or crisis coordinator's) decision on one version.

    applicant and submitted_by repeat the application's, so that the database itself can
    refuse a decision by either (a trigger checks they match the application and that
    the decider declared no conflict of interest).
    """

    application = models.ForeignKey(
        WelfareApplication, on_delete=models.PROTECT, related_name="decisions"
    )
    verdict = models.CharField(_("decision"), max_length=10, choices=Verdict.choices)
    version = models.PositiveIntegerField()
    amount = models.PositiveBigIntegerField(null=True, blank=True)  # minor units approved
    reason = EncryptedTextField(_("reason"))
    # Approving more than the fund has available (balance less approved, unpaid grants).
    over_available = models.BooleanField(default=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decider = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    applicant = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(decider=F("applicant")), name="not_own_decision"),
            models.CheckConstraint(
                condition=~Q(decided_by=F("submitted_by")), name="submitter_does_not_decide"
            ),
            # Distinct approvers: one approval per person per version, however often posted.
            models.UniqueConstraint(
                fields=["application", "version", "decider"],
                condition=Q(verdict__in=["approve", "emergency"]),
                name="one_approval_per_version",
            ),
            models.CheckConstraint(
                condition=~Q(verdict__in=["approve", "emergency"]) | Q(amount__gt=0),
                name="approval_names_amount",
            ),
        ]
        indexes = [models.Index(fields=["application", "version"], name="decision_version")]

    def __str__(self) -> str:
        return f"{self.verdict} v{self.version} of {self.application_id}"


class ConflictOfInterest(AppendOnlyModel):
    """A committee member's declared relationship to an applicant: they cannot approve."""

    application = models.ForeignKey(
        WelfareApplication, on_delete=models.PROTECT, related_name="conflicts"
    )
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    relationship = EncryptedTextField(_("relationship"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["application", "member"], name="one_conflict_each"),
        ]

    def __str__(self) -> str:
        return f"conflict {self.member_id} on {self.application_id}"


def document_storage() -> Any:
    """Where supporting documents go: the "welfare_documents" storage if the deployment
    configures one, else a directory outside MEDIA_ROOT that no URL serves. Files are
    encrypted before they are written (dues.welfare.documents)."""
    from django.core.files.storage import FileSystemStorage, InvalidStorageError, storages

    try:
        return storages["welfare_documents"]
    except InvalidStorageError:
        return FileSystemStorage(location=settings.VAR_DIR / "private" / "welfare")


def _document_path(instance: ApplicationDocument, filename: str) -> str:
    return f"{instance.public_id.hex[:2]}/{instance.public_id.hex}.bin"


class ApplicationDocument(AppendOnlyModel):
    """A supporting document (PDF or image, checked by content), stored encrypted."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    application = models.ForeignKey(
        WelfareApplication, on_delete=models.PROTECT, related_name="documents"
    )
    file = models.FileField(storage=document_storage, upload_to=_document_path, max_length=200)
    content_type = models.CharField(max_length=40)  # sniffed from the bytes, never trusted
    size = models.PositiveIntegerField()  # bytes, before encryption
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"document {self.public_id}"


class PayoutStatus(models.TextChoices):
    PAID = "paid", _("Paid")
    REVERSED = "reversed", _("Failed and reversed")


class Payout(models.Model):
    """Money sent for one approved application. It changes once at most: a failed payout
    is reversed (with or without its fee) and the application is approved again.

    At most one unreversed payout per application and each provider reference once are
    unique indexes; that the application is approved is checked by a trigger on insert,
    and the only update the database allows is paid -> reversed (migration 0004).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    application = models.ForeignKey(
        WelfareApplication, on_delete=models.PROTECT, related_name="payouts"
    )
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="payouts")
    amount = models.PositiveBigIntegerField(_("amount sent"))  # minor units, to the payee
    fee = models.PositiveBigIntegerField(_("provider fee"), default=0)  # minor units
    # Taken from the grant for the member's dues arrears (minor units), booked in the same
    # transaction as the dues payment `arrears_entry` in her dues ledger.
    arrears = models.PositiveBigIntegerField(_("taken for dues arrears"), default=0)
    arrears_entry = models.OneToOneField(
        "dues.LedgerEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    currency = models.CharField(max_length=3)
    method = models.CharField(_("method"), max_length=13, choices=PayoutMethod.choices)
    provider = models.CharField(_("operator or bank"), max_length=40, blank=True)
    reference = models.CharField(_("transaction reference"), max_length=100, blank=True)
    paid_on = models.DateField(_("date paid"))
    status = models.CharField(max_length=8, choices=PayoutStatus.choices, default="paid")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reversal_reason = EncryptedTextField(blank=True, default="")
    fee_returned = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(status="paid"),
                name="one_unreversed_payout",
            ),
            models.UniqueConstraint(
                fields=["method", "provider", "reference"],
                condition=~Q(reference=""),
                name="payout_reference_once",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_amount_positive"),
            models.CheckConstraint(
                condition=Q(arrears=0, arrears_entry__isnull=True)
                | Q(arrears__gt=0, arrears_entry__isnull=False),
                name="payout_arrears_booked",
            ),
            models.CheckConstraint(
                condition=Q(status="paid", reversed_at__isnull=True)
                | Q(status="reversed", reversed_at__isnull=False),
                name="payout_reversal_dated",
            ),
        ]
        indexes = [models.Index(fields=["fund", "paid_on"], name="payout_fund_day")]

    def __str__(self) -> str:
        return f"payout {self.public_id}"


class TransferStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for approval")
    DONE = "done", _("Done")
    REJECTED = "rejected", _("Rejected")


class FundTransfer(models.Model):
    """A request to move money between two funds. Once approved like an application, it is
    two ledger rows that share this transfer's id and sum to zero (checked by PostgreSQL
    at commit)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    from_fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="+")
    to_fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="+")
    amount = models.PositiveBigIntegerField(_("amount"))  # minor units
    currency = models.CharField(max_length=3)
    reason = EncryptedTextField(_("reason"))
    status = models.CharField(
        max_length=8, choices=TransferStatus.choices, default=TransferStatus.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    decided_on = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(from_fund=F("to_fund")), name="transfer_two_funds"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="transfer_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"transfer {self.public_id}"


class TransferApproval(AppendOnlyModel):
    transfer = models.ForeignKey(FundTransfer, on_delete=models.PROTECT, related_name="approvals")
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_by = models.ForeignKey(  # repeats the transfer's: the database refuses self-approval
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["transfer", "approved_by"], name="transfer_approved_once"
            ),
            models.CheckConstraint(
                condition=~Q(approved_by=F("requested_by")), name="transfer_not_self_approved"
            ),
        ]

    def __str__(self) -> str:
        return f"approval of {self.transfer_id}"


class FundEntryKind(models.TextChoices):
    SHARE = "share", _("Share of dues")
    SHARE_REVERSAL = "share_reversal", _("Share of a corrected or refunded payment")
    DONATION = "donation", _("Donation")
    GRANT = "grant", _("Grant")
    TRANSFER = "transfer", _("Transfer between funds")
    PAYOUT = "payout", _("Payout")
    FEE = "fee", _("Provider fee")
    PAYOUT_REVERSAL = "payout_reversal", _("Failed payout returned")
    FEE_REVERSAL = "fee_reversal", _("Provider fee returned")
    ARREARS = "arrears", _("Dues arrears taken from a payout")
    ARREARS_REVERSAL = "arrears_return", _("Dues arrears of a failed payout returned")
    REPAYMENT = "repayment", _("Loan repayment")
    REPAYMENT_REVERSAL = "repay_reversal", _("Loan repayment reversed")


# Money a fund chose to send out: refused by PostgreSQL when it would take the fund below
# zero. Share reversals are involuntary and always recorded, even below zero.
VOLUNTARY_OUT = ("payout", "fee", "arrears", "transfer")
INFLOW_KINDS = ("share", "share_reversal", "donation", "grant", "repayment", "repay_reversal")
PAYOUT_KINDS = ("payout", "fee", "payout_reversal", "fee_reversal", "arrears", "arrears_return")


class LoanRepayment(AppendOnlyModel):
    """Money a member paid back on an interest-free loan. Its fund row brings it back into
    the fund; what is still owed is the loan less these rows, never stored.

    One change is allowed, once (the database refuses any other): a repayment recorded by
    mistake is reversed, with a reason. Its fund row is then reversed too, the loan owes
    that money again, and its transaction reference is free to be recorded again.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    application = models.ForeignKey(
        WelfareApplication, on_delete=models.PROTECT, related_name="repayments"
    )
    amount = models.PositiveBigIntegerField(_("amount repaid"))  # minor units
    currency = models.CharField(max_length=3)
    method = models.CharField(_("method"), max_length=13, choices=PayoutMethod.choices)
    provider = models.CharField(_("operator or bank"), max_length=40, blank=True)
    reference = models.CharField(_("transaction reference"), max_length=100, blank=True)
    paid_on = models.DateField(_("date repaid"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    reversed_at = models.DateTimeField(null=True, blank=True)
    reversed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reversal_reason = EncryptedTextField(blank=True, default="")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="repayment_amount_positive"),
            models.UniqueConstraint(
                fields=["method", "provider", "reference"],
                condition=~Q(reference="") & Q(reversed_at__isnull=True),
                name="repayment_reference_once",
            ),
            models.CheckConstraint(
                condition=Q(reversed_at__isnull=True, reversed_by__isnull=True)
                | Q(reversed_at__isnull=False, reversed_by__isnull=False),
                name="repayment_reversed_by_someone",
            ),
        ]

    def __str__(self) -> str:
        return f"repayment {self.public_id}"


class FundEntry(AppendOnlyModel):
    """One line of a fund's account; `amount` is signed minor units (positive = money in).

    The balance is the sum of a fund's rows. Rows for a dues payment point at its ledger
    entry (once per fund); rows for a payout at the payout (one payout row and one fee row
    each, and one reversal of each); the two rows of a transfer at the transfer.
    """

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(_("kind"), max_length=15, choices=FundEntryKind.choices)
    amount = models.BigIntegerField(_("amount"))  # minor units, signed
    currency = models.CharField(_("currency"), max_length=3)
    booked_on = models.DateField(_("date"))  # the business date
    dues_entry = models.ForeignKey(
        "dues.LedgerEntry", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payout = models.ForeignKey(
        Payout, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    transfer = models.ForeignKey(
        FundTransfer, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    repayment = models.OneToOneField(
        LoanRepayment, null=True, blank=True, on_delete=models.PROTECT, related_name="entry"
    )
    reverses = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals"
    )
    # Donations and grants: who gave (an organisation, or "anonymous"), and whether it may
    # be spent only by this fund.
    source = EncryptedTextField(_("source"), blank=True, default="")
    restricted = models.BooleanField(_("restricted to this fund's purpose"), default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("fund ledger entry")
        verbose_name_plural = _("fund ledger entries")
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="fund_entry_not_zero"),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="fund_entry_currency_iso"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="share", amount__gt=0, dues_entry__isnull=False, reverses__isnull=True)
                    | Q(
                        kind="share_reversal",
                        amount__lt=0,
                        dues_entry__isnull=False,
                        reverses__isnull=False,
                    )
                    | Q(kind__in=["donation", "grant"], amount__gt=0, dues_entry__isnull=True)
                    | Q(kind="transfer", transfer__isnull=False)
                    | Q(kind__in=["payout", "fee", "arrears"], amount__lt=0, payout__isnull=False)
                    | Q(kind="repayment", amount__gt=0, repayment__isnull=False)
                    | Q(
                        kind="repay_reversal",
                        amount__lt=0,
                        reverses__isnull=False,
                        dues_entry__isnull=True,
                    )
                    | Q(
                        kind__in=["payout_reversal", "fee_reversal", "arrears_return"],
                        amount__gt=0,
                        payout__isnull=False,
                        reverses__isnull=False,
                    )
                ),
                name="fund_entry_kind_shape",
            ),
            models.CheckConstraint(
                condition=Q(restricted=False) | Q(kind__in=["donation", "grant"]),
                name="only_gifts_are_restricted",
            ),
            models.CheckConstraint(
                condition=Q(payout__isnull=True) | Q(kind__in=PAYOUT_KINDS),
                name="payout_rows_are_payout_kinds",
            ),
            models.CheckConstraint(
                condition=Q(transfer__isnull=True) | Q(kind="transfer"),
                name="transfer_rows_are_transfers",
            ),
            models.CheckConstraint(
                condition=Q(repayment__isnull=True) | Q(kind="repayment"),
                name="repayment_rows_are_repayments",
            ),
            models.UniqueConstraint(
                fields=["reverses"],
                condition=Q(kind="repay_reversal"),
                name="repayment_reversed_once",
            ),
            # A dues payment's share is written once per fund, and so is its reversal.
            models.UniqueConstraint(
                fields=["fund", "dues_entry"],
                condition=Q(dues_entry__isnull=False),
                name="dues_share_once_per_fund",
            ),
            models.UniqueConstraint(
                fields=["payout", "kind"],
                condition=Q(payout__isnull=False),
                name="payout_rows_once",
            ),
            models.UniqueConstraint(
                fields=["transfer", "fund"],
                condition=Q(transfer__isnull=False),
                name="transfer_row_per_fund",
            ),
        ]
        indexes = [
            # Balances and monthly figures read only this index.
            models.Index(fields=["fund", "booked_on", "kind", "amount"], name="fund_entry_day"),
            models.Index(
                fields=["dues_entry"], condition=Q(dues_entry__isnull=False), name="fund_entry_dues"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency}"
