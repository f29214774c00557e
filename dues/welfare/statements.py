"""The daily reconciliation of payouts: the operator's statement, and what did not match.

A treasurer imports the mobile-money operator's statement of the branch's account
(StatementLine, written once, each operator reference once per branch). Every day the
payouts of the day before are checked against it and against the branch's closed cash
book; what does not match becomes a ReconciliationItem that the treasurer and the
auditor see until a later run finds it matched, or someone explains it.

Imported by dues.models, so these are models of the dues app (migrations in
dues/migrations). Written only through dues.welfare.services.reconciliation.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dues.welfare.models import Payout
from union.crypto import EncryptedTextField
from union.models import AppendOnlyModel, Branch

__all__ = ["Problem", "Reconciliation", "ReconciliationItem", "StatementLine"]


class StatementLine(AppendOnlyModel):
    """One line of a mobile-money operator's statement for a branch's account.

    `amount` is signed minor units as the operator shows it: negative when money left the
    account (a payout), positive when it came in (dues, a loan repaid). Nothing about the
    other party is kept: the operator's reference is what matches a line to a payout.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    provider = models.CharField(_("operator"), max_length=40)
    reference = models.CharField(_("transaction reference"), max_length=100)
    booked_on = models.DateField(_("date"))
    amount = models.BigIntegerField(_("amount"))  # minor units, signed
    fee = models.PositiveBigIntegerField(_("fee"), default=0)  # minor units, charged on top
    currency = models.CharField(max_length=3)
    batch = models.UUIDField()  # the import it came in
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    imported_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["branch", "provider", "reference"], name="statement_line_once"
            ),
            models.CheckConstraint(condition=~Q(amount=0), name="statement_line_not_zero"),
        ]
        indexes = [models.Index(fields=["branch", "booked_on"], name="statement_branch_day")]

    def __str__(self) -> str:
        return f"statement line {self.public_id}"


class Problem(models.TextChoices):
    NO_STATEMENT = "no_statement", _("No statement imported for this day and operator")
    NOT_ON_STATEMENT = "not_on_statement", _("Paid, but not on the operator's statement")
    AMOUNT_DIFFERS = "amount_differs", _("The statement shows another amount")
    NOT_RECORDED = "not_recorded", _("On the statement, but nothing recorded here")
    CASH_BOOK_OPEN = "cash_book_open", _("Paid in cash, but the cash book of the day is not closed")
    NOT_IN_CASH_BOOK = "not_in_cash_book", _("Paid in cash, but not in the closed cash book")


class Reconciliation(models.Model):
    """The check of one branch's day. Running it again rewrites only what changed."""

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="+")
    day = models.DateField()
    matched = models.PositiveIntegerField(default=0)
    unmatched = models.PositiveIntegerField(default=0)
    ran_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["branch", "day"], name="reconciled_once_a_day"),
        ]

    def __str__(self) -> str:
        return f"reconciliation {self.branch_id} {self.day}"


class ReconciliationItem(models.Model):
    """Something of a day that did not match. `key` names what it is about (a payout, a
    statement line) so that each run finds its own earlier rows; cleared once a later run
    finds it matched, explained once a treasurer or auditor says why it is right."""

    reconciliation = models.ForeignKey(
        Reconciliation, on_delete=models.PROTECT, related_name="items"
    )
    key = models.CharField(max_length=60)
    problem = models.CharField(max_length=16, choices=Problem.choices)
    method = models.CharField(max_length=13, blank=True)
    provider = models.CharField(max_length=40, blank=True)
    reference = models.CharField(max_length=100, blank=True)
    amount = models.BigIntegerField()  # minor units, signed as money leaves (-) or comes (+)
    currency = models.CharField(max_length=3)
    payout = models.ForeignKey(
        Payout, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    line = models.ForeignKey(
        StatementLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    found_at = models.DateTimeField(default=timezone.now)
    cleared_at = models.DateTimeField(null=True, blank=True)
    explanation = EncryptedTextField(blank=True, default="")
    explained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    explained_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["reconciliation", "key"], name="reconciliation_key_once"
            ),
            models.CheckConstraint(
                condition=Q(explained_at__isnull=True) | ~Q(explanation=""),
                name="explained_with_words",
            ),
        ]
        indexes = [
            models.Index(
                fields=["reconciliation"],
                condition=Q(cleared_at__isnull=True, explained_at__isnull=True),
                name="reconciliation_open",
            )
        ]

    def __str__(self) -> str:
        return f"{self.problem} {self.key}"

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None and self.explained_at is None
