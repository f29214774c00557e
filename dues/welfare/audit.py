"""The welfare audit actions, registered with the core in DuesConfig.ready()."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class WelfareAction(models.TextChoices):
    FUND = "welfare.fund", _("Created a welfare fund")
    RULE = "welfare.rule", _("Changed a welfare fund's rules")
    POLICY = "welfare.policy", _("Changed a branch's welfare decision rules")
    DONATION = "welfare.donation", _("Recorded a donation or grant")
    TRANSFER = "welfare.transfer", _("Requested a transfer between funds")
    TRANSFER_DECIDE = "welfare.transfer_decide", _("Decided on a transfer between funds")
    APPLY = "welfare.apply", _("Submitted a welfare application")
    EDIT = "welfare.edit", _("Changed a welfare application")
    VIEW = "welfare.view", _("Viewed a welfare application")
    UPLOAD = "welfare.upload", _("Added a supporting document")
    DOCUMENT = "welfare.document", _("Viewed a supporting document")
    DECIDE = "welfare.decide", _("Decided on a welfare application")
    OVERRIDE = "welfare.override", _("Approved beyond what a fund has available")
    CONFLICT = "welfare.conflict", _("Declared a conflict of interest")
    EMERGENCY = "welfare.emergency", _("Approved welfare in an emergency")
    REVIEW = "welfare.review", _("Reviewed an emergency approval")
    PAYEE = "welfare.payee", _("Viewed payout details")
    PAY = "welfare.pay", _("Paid a welfare application")
    REVERSE = "welfare.reverse", _("Reversed a failed payout")
    EXPORT = "welfare.export", _("Exported a fund ledger")
    REPAY = "welfare.repay", _("Recorded a loan repayment")
    UNREPAY = "welfare.unrepay", _("Reversed a loan repayment recorded by mistake")
    STATEMENT = "welfare.statement", _("Imported a mobile money statement")
    RECONCILE = "welfare.reconcile", _("Reconciled a day's payouts")
    EXPLAIN = "welfare.explain", _("Explained an unmatched payout line")
