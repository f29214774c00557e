"""The union's money in: dues plans, the append-only ledger, and the Stripe inbox.

Amounts are integers in the minor unit of their currency (see dues.money), always with the
currency beside them. Ledger rows, allocations, confirmations and cash-book closes are
written once and never changed: Python refuses (AppendOnlyModel) and so does PostgreSQL
(triggers in migration 0002). Balances, arrears and months paid are derived from them.

Everything here is written only through dues.services.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from union.crypto import EncryptedTextField
from union.models import AppendOnlyModel, Branch, Member


def new_reference() -> str:
    """An opaque reference: the only thing Stripe ever learns about a member."""
    return "ref_" + secrets.token_hex(12)


class DuesPlan(models.Model):
    """What a branch charges each month. Changes apply from the next monthly run."""

    branch = models.OneToOneField(
        Branch, on_delete=models.PROTECT, related_name="dues_plan", verbose_name=_("branch")
    )
    currency = models.CharField(_("currency"), max_length=3)  # ISO 4217, the branch's currency
    monthly_amount = models.PositiveBigIntegerField(_("monthly dues"))  # minor units
    solidarity_amount = models.PositiveBigIntegerField(_("solidarity rate"))  # minor units
    grace_months = models.PositiveSmallIntegerField(_("grace months"), default=3)
    charge_joining_month = models.BooleanField(
        _("members who join mid-month pay that month"), default=True
    )
    # Cash and mobile-money entries above this (minor units) count only once confirmed.
    confirm_threshold = models.PositiveBigIntegerField(_("second-officer threshold"))
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("dues plan")
        constraints = [
            models.CheckConstraint(condition=Q(monthly_amount__gt=0), name="plan_amount_positive"),
            models.CheckConstraint(
                condition=Q(solidarity_amount__gt=0, solidarity_amount__lte=F("monthly_amount")),
                name="plan_solidarity_within_amount",
            ),
            models.CheckConstraint(condition=Q(grace_months__lte=24), name="plan_grace_bounded"),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="plan_currency_iso"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.branch.code} {self.monthly_amount} {self.currency}"


class Rate(models.TextChoices):
    STANDARD = "standard", _("Standard rate")
    SOLIDARITY = "solidarity", _("Solidarity rate")


class DuesAccount(models.Model):
    """Per-member dues settings, created the first time they are needed."""

    member = models.OneToOneField(Member, on_delete=models.PROTECT, related_name="dues_account")
    rate = models.CharField(_("rate"), max_length=10, choices=Rate.choices, default=Rate.STANDARD)
    reference = models.CharField(max_length=32, unique=True, default=new_reference)
    stripe_customer_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.reference


class EntryKind(models.TextChoices):
    CHARGE = "charge", _("Monthly dues")
    PAYMENT = "payment", _("Payment")
    WAIVER = "waiver", _("Waiver")
    REFUND = "refund", _("Refund")
    REVERSAL = "reversal", _("Correction")
    # A member's move to another branch (dues.services.moves): what she owed (or had paid
    # ahead) in the branch she left is closed there, and what is carried opens in the new.
    CLOSING = "closing", _("Account closed on moving branch")
    OPENING = "opening", _("Carried from the previous branch")


class Method(models.TextChoices):
    CASH = "cash", _("Cash")
    MOBILE_MONEY = "mobile_money", _("Mobile money")
    CARD = "card", _("Card")
    # Dues arrears a welfare fund's rules took from a member's payout (dues.welfare).
    WELFARE = "welfare", _("Taken from a welfare payout")


class LedgerEntry(AppendOnlyModel):
    """One line of a member's dues account.

    `amount` is signed, in minor units: positive when the member owes more (a charge, a
    refund, the correction of a payment), negative when they owe less (a payment, a waiver,
    the correction of a charge). A member's balance is the sum of the rows that count;
    rows that need a second officer count from their confirmation on.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="ledger")
    # The member's branch when the row was written: its receipt book, cash book and plan.
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("kind"), max_length=10, choices=EntryKind.choices)
    amount = models.BigIntegerField(_("amount"))  # minor units, signed (see above)
    currency = models.CharField(_("currency"), max_length=3)
    period = models.DateField(_("month"), null=True, blank=True)  # charges: 1st of the month
    # Opening rows that carry arrears: the oldest month she owed in the branch she left
    # (1st of the month). Good standing ages the carried debt from it, as if a charge.
    owed_since = models.DateField(null=True, blank=True)
    booked_on = models.DateField(_("date"))  # the business date, in the branch's time zone
    method = models.CharField(_("method"), max_length=12, choices=Method.choices, blank=True)
    provider = models.CharField(_("provider"), max_length=40, blank=True)  # "stripe", an operator
    # The provider's transaction id: a mobile-money reference, a Stripe payment or refund id.
    external_id = models.CharField(_("transaction reference"), max_length=100, blank=True)
    receipt_number = models.CharField(_("receipt number"), max_length=20, blank=True)
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    refund_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="refunds"
    )
    reason = EncryptedTextField(_("reason"), blank=True, default="")  # waivers may name hardship
    needs_confirmation = models.BooleanField(default=False)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        constraints = [
            # One charge per member per month: two monthly runs at once insert it once.
            models.UniqueConstraint(fields=["member", "period"], name="one_charge_per_month"),
            models.UniqueConstraint(
                fields=["branch", "receipt_number"],
                condition=~Q(receipt_number=""),
                name="receipt_number_once_per_branch",
            ),
            # One booking per Stripe payment or refund, per mobile-money transaction.
            models.UniqueConstraint(
                fields=["method", "provider", "external_id", "kind"],
                condition=~Q(external_id=""),
                name="external_payment_booked_once",
            ),
            models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_not_zero"),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="entry_currency_iso"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind="charge", amount__gt=0, period__isnull=False, method="")
                    | Q(kind="payment", amount__lt=0, period__isnull=True) & ~Q(method="")
                    | Q(kind="waiver", amount__lt=0, period__isnull=True, method="")
                    | Q(kind="refund", amount__gt=0, period__isnull=True, refund_of__isnull=False)
                    | Q(kind="reversal", period__isnull=True, reverses__isnull=False)
                    | Q(kind__in=["closing", "opening"], period__isnull=True, method="")
                ),
                name="entry_kind_shape",
            ),
            models.CheckConstraint(
                condition=Q(reverses__isnull=True) | Q(kind="reversal"),
                name="only_reversals_reverse",
            ),
            models.CheckConstraint(
                condition=Q(owed_since__isnull=True) | Q(kind="opening", amount__gt=0),
                name="owed_since_on_carried_arrears",
            ),
            models.CheckConstraint(
                condition=Q(needs_confirmation=False)
                | Q(kind__in=["payment", "reversal"], recorded_by__isnull=False),
                name="confirmation_for_officer_entries",
            ),
        ]
        indexes = [
            models.Index(fields=["member", "kind", "period"], name="ledger_member_kind"),
            models.Index(fields=["branch", "booked_on", "id"], name="ledger_branch_day"),
            models.Index(fields=["branch", "kind", "period"], name="ledger_branch_period"),
            models.Index(
                fields=["branch", "id"],
                condition=Q(needs_confirmation=True),
                name="ledger_needs_confirmation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} {self.currency}"

    @property
    def is_debit(self) -> bool:
        return self.amount > 0

    @property
    def magnitude(self) -> int:
        return abs(self.amount)


class Allocation(AppendOnlyModel):
    """How much of a credit (payment, waiver, correction) settles which debit (a charge...).

    Positive rows settle; a negative row releases an earlier settlement (when a payment
    is corrected, say). Per pair the sum never goes below zero, and what is settled on a
    debit never exceeds it.
    """

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    credit = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="allocations")
    debit = models.ForeignKey(LedgerEntry, on_delete=models.PROTECT, related_name="settlements")
    amount = models.BigIntegerField()  # minor units; negative releases
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="allocation_not_zero"),
            models.CheckConstraint(condition=~Q(credit=F("debit")), name="allocation_two_rows"),
        ]
        indexes = [
            models.Index(fields=["debit"], name="allocation_debit"),
            models.Index(fields=["credit"], name="allocation_credit"),
            models.Index(fields=["member"], name="allocation_member"),
        ]

    def __str__(self) -> str:
        return f"{self.credit_id} -> {self.debit_id}: {self.amount}"


class PaymentConfirmation(AppendOnlyModel):
    """A second officer's confirmation of an entry above the branch threshold.

    recorded_by repeats the entry's recorder so the database itself can refuse an
    officer confirming their own entry (a trigger checks that it matches the entry).
    """

    entry = models.OneToOneField(LedgerEntry, on_delete=models.PROTECT, related_name="confirmation")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(confirmed_by=F("recorded_by")), name="second_officer_confirms"
            ),
        ]

    def __str__(self) -> str:
        return f"confirmation of {self.entry_id}"


class CashBookClose(AppendOnlyModel):
    """The end of a branch's cash day: what each officer took, totalled once."""

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    currency = models.CharField(max_length=3)
    cash_total = models.BigIntegerField()  # minor units
    mobile_money_total = models.BigIntegerField()  # minor units
    entries = models.PositiveIntegerField()
    # [{"user_id": int, "cash": int, "mobile_money": int, "entries": int}], minor units
    per_officer = models.JSONField(default=list)
    # Welfare paid out in cash that day (minor units), and which payouts (public ids): the
    # daily reconciliation checks every cash payout against the close of its day.
    cash_out_total = models.BigIntegerField(default=0)
    cash_payouts = models.JSONField(default=list)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["branch", "day"], name="cash_book_closed_once"),
        ]

    def __str__(self) -> str:
        return f"{self.branch_id} {self.day}"


# --- moving branch --------------------------------------------------------------------


class ConversionRate(AppendOnlyModel):
    """An exchange rate a treasurer recorded, used when a member moves between branches
    of different currencies: 1 `from_currency` = numerator / denominator `to_currency`
    (major units: 1 XOF = 302/10000 ZAR). Exact: a fraction of integers, never a float.
    A new rate is a new row; the latest for a pair is the one used."""

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    from_currency = models.CharField(_("from"), max_length=3)  # ISO 4217
    to_currency = models.CharField(_("to"), max_length=3)  # ISO 4217
    numerator = models.PositiveBigIntegerField()
    denominator = models.PositiveBigIntegerField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(numerator__gt=0, denominator__gt=0), name="rate_positive"
            ),
            models.CheckConstraint(
                condition=~Q(from_currency=F("to_currency")), name="rate_two_currencies"
            ),
            models.CheckConstraint(
                condition=Q(from_currency__regex=r"^[A-Z]{3}$", to_currency__regex=r"^[A-Z]{3}$"),
                name="rate_currencies_iso",
            ),
        ]
        indexes = [
            models.Index(fields=["from_currency", "to_currency", "-recorded_at"], name="rate_pair")
        ]

    def __str__(self) -> str:
        return f"1 {self.from_currency} = {self.numerator}/{self.denominator} {self.to_currency}"


class Closing(models.TextChoices):
    SETTLED = "settled", _("Settled: nothing owed, nothing paid ahead")
    CARRIED = "carried", _("Carried to the new branch")
    WRITTEN_OFF = "written_off", _("Written off, with a reason")


class AccountTransfer(AppendOnlyModel):
    """How a member's dues account was closed in the branch she left and opened in the new
    one: one per move (the unique move is the database's guard against a double close).
    Balances are signed minor units, positive when she owed: old in the old branch's
    currency before closing, new in the new branch's currency after opening."""

    move = models.OneToOneField(
        "union.MemberMove", on_delete=models.PROTECT, related_name="dues_transfer"
    )
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    closing = models.CharField(_("closing"), max_length=12, choices=Closing.choices)
    old_balance = models.BigIntegerField()  # minor units of old_currency, signed
    old_currency = models.CharField(max_length=3)
    new_balance = models.BigIntegerField()  # minor units of new_currency, signed
    new_currency = models.CharField(max_length=3)
    rate = models.ForeignKey(
        ConversionRate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closing_entry = models.OneToOneField(
        LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    opening_entry = models.OneToOneField(
        LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(closing="settled", old_balance=0, new_balance=0)
                    | Q(closing="written_off", old_balance__gt=0, new_balance=0)
                    | Q(closing="carried")
                    & (Q(rate__isnull=False) | Q(old_currency=F("new_currency")))
                ),
                name="transfer_closing_shape",
            ),
        ]

    def __str__(self) -> str:
        return f"transfer of move {self.move_id}"


# --- Stripe -----------------------------------------------------------------------------


class CheckoutPurpose(models.TextChoices):
    MONTHS = "months", _("Months of dues")
    ARREARS = "arrears", _("What I owe")
    SUBSCRIPTION = "subscription", _("Monthly card payment")


class CardCheckout(models.Model):
    """A Stripe Checkout session we opened. `token` is what Stripe sees; nothing else."""

    token = models.CharField(max_length=40, unique=True, default=new_reference)
    account = models.ForeignKey(DuesAccount, on_delete=models.PROTECT, related_name="checkouts")
    purpose = models.CharField(max_length=12, choices=CheckoutPurpose.choices)
    months = models.PositiveSmallIntegerField(default=1)
    amount = models.PositiveBigIntegerField()  # minor units (per month for subscriptions)
    currency = models.CharField(max_length=3)
    session_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    url = models.URLField(max_length=2000, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.token


class SubscriptionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    CANCELED = "canceled", _("Cancelled")


class CardSubscription(models.Model):
    """A member's monthly card payment. Cancelled is final, whatever order events arrive in."""

    subscription_id = models.CharField(max_length=255, unique=True)
    account = models.ForeignKey(DuesAccount, on_delete=models.PROTECT, related_name="subscriptions")
    status = models.CharField(max_length=10, choices=SubscriptionStatus.choices)
    amount = models.PositiveBigIntegerField()  # minor units a month
    currency = models.CharField(max_length=3)
    started_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.subscription_id


class EventStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    BOOKED = "booked", _("Booked")
    NOTHING = "nothing", _("Nothing to book")
    UNMATCHED = "unmatched", _("Unknown reference")
    FAILED = "failed", _("Could not be booked")


class StripeEvent(models.Model):
    """Each Stripe event, stored once (its id is unique) and then handled by a task.

    `data` keeps only the fields we book from: ids, amounts, currency, the opaque
    reference. Names, emails and card details that Stripe may hold are dropped.
    """

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=64)
    livemode = models.BooleanField(default=False)
    stripe_created = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    data = models.JSONField(default=dict)
    account = models.ForeignKey(
        DuesAccount, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amount = models.BigIntegerField(null=True, blank=True)  # minor units, when there is one
    currency = models.CharField(max_length=3, blank=True)
    status = models.CharField(
        max_length=10, choices=EventStatus.choices, default=EventStatus.PENDING
    )
    note = models.CharField(max_length=200, blank=True)  # an error code, never personal data
    attempts = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    entry = models.ForeignKey(
        LedgerEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        indexes = [models.Index(fields=["status", "received_at"], name="stripe_event_status")]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"


from dues.welfare.models import *  # noqa: E402, F403 - welfare funds are dues models
from dues.welfare.statements import *  # noqa: E402, F403
