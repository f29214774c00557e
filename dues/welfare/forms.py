"""Forms of the welfare screens. They parse and check input; writes go through the services.

Amounts are typed in major units and become integer minor units of the branch's currency
here (dues.forms.AmountField). Shares are typed in percent and become basis points.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from dues.forms import AmountField
from dues.welfare.documents import MAX_BYTES
from dues.welfare.models import FeePayer, FundEntryKind, PayeeKind, PayoutMethod, Purpose
from dues.welfare.services.applications import Payee

DATE = forms.DateInput(attrs={"type": "date"})


class _CurrencyForm(forms.Form):
    """Amount fields are relabelled with the branch's currency and clean to its minor unit."""

    amount_fields: tuple[str, ...] = ()
    optional_amounts: tuple[str, ...] = ()

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        for name in self.amount_fields:
            old = self.fields[name]
            self.fields[name] = AmountField(
                label=f"{old.label} ({currency})",
                help_text=old.help_text,
                currency=currency,
                required=name not in self.optional_amounts,
                allow_zero=name in self.optional_amounts,
            )


class ApplicationForm(_CurrencyForm):
    amount_fields = ("amount",)

    purpose = forms.ChoiceField(
        label=_("What is the help for?"), choices=Purpose.choices, widget=forms.RadioSelect
    )
    amount = forms.DecimalField(label=_("Amount needed"))
    note = forms.CharField(
        label=_("What happened?"),
        help_text=_(
            "Kept encrypted; only the welfare committee reads it. Say only what is needed."
        ),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    dependants = forms.IntegerField(
        label=_("How many children or others do you support?"),
        help_text=_("Some funds give more to members who support others."),
        min_value=0,
        max_value=50,
        initial=0,
        required=False,
    )
    loan = forms.BooleanField(
        label=_("I ask for a loan, without interest, that I will pay back"),
        help_text=_("Only some funds lend."),
        required=False,
    )
    payee_kind = forms.ChoiceField(
        label=_("Who should receive the money?"), choices=PayeeKind.choices, initial="member"
    )
    payee_name = forms.CharField(
        label=_("Their name"),
        help_text=_("Only if it is not the member: the court, hospital, landlord or person."),
        max_length=200,
        required=False,
    )
    payout_method = forms.ChoiceField(
        label=_("How should it be paid?"),
        choices=PayoutMethod.choices,
        initial=PayoutMethod.CASH,
        widget=forms.RadioSelect,
    )
    payout_provider = forms.CharField(
        label=_("Mobile money service or bank"), max_length=40, required=False
    )
    payout_destination = forms.CharField(
        label=_("Mobile money number or account number"),
        help_text=_("Seen only by the treasurer who pays."),
        max_length=64,
        required=False,
    )
    document = forms.FileField(
        label=_("A document (optional)"),
        help_text=_("A PDF or a photo: a medical note, a court paper, a bill."),
        required=False,
    )

    def __init__(self, *args: Any, purposes: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if purposes is not None:
            self.fields["purpose"].choices = [  # type: ignore[attr-defined]
                (value, label) for value, label in Purpose.choices if value in purposes
            ]
        self.fields["document"].widget.attrs["accept"] = (
            "application/pdf,image/jpeg,image/png,image/webp"
        )

    def clean_document(self) -> bytes | None:
        upload = self.cleaned_data.get("document")
        if not upload:
            return None
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("The file is too large."))
        return bytes(upload.read())

    def payee(self) -> Payee:
        data = self.cleaned_data
        return Payee(
            kind=data["payee_kind"],
            name=data["payee_name"],
            method=data["payout_method"],
            provider=data["payout_provider"],
            destination=data["payout_destination"],
        )


class OfficeApplicationForm(ApplicationForm):
    member_number = forms.CharField(label=_("Membership number"), max_length=20)

    field_order = ["member_number"]


class AnswerForm(forms.Form):
    note = forms.CharField(
        label=_("Your answer"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    document = ApplicationForm.base_fields["document"]

    clean_document = ApplicationForm.clean_document


class DocumentForm(forms.Form):
    document = ApplicationForm.base_fields["document"]

    clean_document = ApplicationForm.clean_document


class ApproveForm(_CurrencyForm):
    amount_fields = ("amount",)

    amount = forms.DecimalField(label=_("Amount granted"))
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    over_available = forms.BooleanField(
        label=_("Approve beyond what the fund has available (say why above)"), required=False
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class QuestionForm(forms.Form):
    question = forms.CharField(
        label=_("What do you need to know?"),
        help_text=_("The member sees this question in their account."),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ConflictForm(forms.Form):
    relationship = forms.CharField(
        label=_("Your relationship to the member"),
        help_text=_("A relative, partner, flatmate, business partner... You will not approve it."),
        max_length=200,
    )


class EmergencyForm(_CurrencyForm):
    amount_fields = ("amount",)

    amount = forms.DecimalField(label=_("Amount granted now"))
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReviewForm(forms.Form):
    upheld = forms.TypedChoiceField(
        label=_("The committee's review"),
        choices=[("1", _("Uphold the emergency approval")), ("0", _("Reject it"))],
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class PayForm(_CurrencyForm):
    amount_fields = ("fee",)
    optional_amounts = ("fee",)

    method = forms.ChoiceField(
        label=_("How was it paid?"), choices=PayoutMethod.choices, widget=forms.RadioSelect
    )
    provider = forms.CharField(
        label=_("Mobile money service or bank"), max_length=40, required=False
    )
    reference = forms.CharField(
        label=_("Transaction reference or receipt number"), max_length=100, required=False
    )
    paid_on = forms.DateField(label=_("Date paid"), widget=DATE)
    fee = forms.DecimalField(label=_("Provider fee"), required=False)


class ReverseRepaymentForm(forms.Form):
    reason = forms.CharField(label=_("What went wrong?"), max_length=500)


class ReversePayoutForm(ReverseRepaymentForm):
    fee_returned = forms.BooleanField(label=_("The provider returned the fee"), required=False)


class FundForm(forms.Form):
    purpose = forms.ChoiceField(label=_("What is the fund for?"), choices=Purpose.choices)


class RuleForm(_CurrencyForm):
    amount_fields = ("max_payout", "max_per_member_year", "per_dependant")
    optional_amounts = amount_fields

    effective_from = forms.DateField(label=_("In force from"), widget=DATE)
    share_percent = forms.DecimalField(
        label=_("Share of every dues payment (%)"),
        min_value=Decimal(0),
        max_value=Decimal(100),
        decimal_places=2,
    )
    max_payout = forms.DecimalField(label=_("Most one payout may be"), required=False)
    max_per_member_year = forms.DecimalField(
        label=_("Most one member may receive in 12 months"), required=False
    )
    waiting_months = forms.IntegerField(
        label=_("Months of dues paid before a member can be helped"),
        min_value=0,
        max_value=120,
        initial=0,
    )
    good_standing_required = forms.BooleanField(
        label=_("Only members in good standing"), required=False, initial=True
    )
    fee_payer = forms.ChoiceField(label=_("Provider fees"), choices=FeePayer.choices)
    arrears_percent = forms.DecimalField(
        label=_("Dues arrears taken from a payout, at most (% of the grant)"),
        help_text=_("Zero: never. What the member owes is paid from the grant first."),
        min_value=Decimal(0),
        max_value=Decimal("99.99"),
        decimal_places=2,
        initial=0,
        required=False,
    )
    per_dependant = forms.DecimalField(
        label=_("More per dependant, on each cap"),
        help_text=_("Added to the most one payout may be, and to the 12-month cap."),
        required=False,
    )
    max_dependants = forms.IntegerField(
        label=_("Dependants counted at most"), min_value=0, max_value=20, initial=0, required=False
    )
    loans = forms.BooleanField(label=_("The fund may lend, without interest"), required=False)

    @classmethod
    def rule_of(cls, cleaned: dict[str, Any]) -> dict[str, Any]:
        """The service's arguments: the share in basis points, empty limits as none."""
        data = dict(cleaned)
        data["share_bp"] = int(data.pop("share_percent") * 100)
        data["arrears_bp"] = int((data.pop("arrears_percent", None) or 0) * 100)
        for name in ("max_payout", "max_per_member_year"):
            data[name] = data[name] or None  # empty or zero: no limit
        data["per_dependant"] = data.get("per_dependant") or 0
        data["max_dependants"] = data.get("max_dependants") or 0
        return data


class GiftForm(_CurrencyForm):
    amount_fields = ("amount",)

    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[
            (FundEntryKind.DONATION, FundEntryKind.DONATION.label),
            (FundEntryKind.GRANT, FundEntryKind.GRANT.label),
        ],
        widget=forms.RadioSelect,
        initial=FundEntryKind.DONATION,
    )
    amount = forms.DecimalField(label=_("Amount"))
    source = forms.CharField(
        label=_("From"),
        help_text=_("An organisation, or write: anonymous."),
        max_length=200,
    )
    received_on = forms.DateField(label=_("Received on"), widget=DATE)
    restricted = forms.BooleanField(
        label=_("Only for this fund's purpose (it can never be transferred)"), required=False
    )


class TransferForm(_CurrencyForm):
    amount_fields = ("amount",)

    to_fund = forms.ChoiceField(label=_("To the fund"))
    amount = forms.DecimalField(label=_("Amount"))
    reason = forms.CharField(label=_("Why?"), max_length=500)

    def __init__(self, *args: Any, funds: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_fund"].choices = funds  # type: ignore[attr-defined]


class PolicyForm(_CurrencyForm):
    amount_fields = (
        "emergency_max_payout",
        "emergency_max_per_coordinator_month",
        "emergency_max_per_member_year",
    )
    optional_amounts = amount_fields

    approvals_required = forms.IntegerField(
        label=_("Committee approvals needed"), min_value=1, max_value=7, initial=2
    )
    emergency_max_payout = forms.DecimalField(
        label=_("Emergency: most per payout"),
        help_text=_("What the crisis coordinator may approve alone. Zero: no emergency path."),
        required=False,
    )
    emergency_max_per_coordinator_month = forms.DecimalField(
        label=_("Emergency: most per coordinator per month"), required=False
    )
    emergency_max_per_member_year = forms.DecimalField(
        label=_("Emergency: most per member in 12 months"), required=False
    )

    def policy(self) -> dict[str, int]:
        data = self.cleaned_data
        return {
            "approvals_required": data["approvals_required"],
            **{name: data[name] or 0 for name in self.amount_fields},
        }


class FundExportForm(forms.Form):
    fund = forms.ChoiceField(label=_("Fund"), required=False)
    start = forms.DateField(label=_("From"), required=False, widget=DATE)
    end = forms.DateField(label=_("Until"), required=False, widget=DATE)
    format = forms.ChoiceField(
        label=_("Format"),
        choices=[("xlsx", "Excel (.xlsx)"), ("csv", "CSV")],
        widget=forms.RadioSelect,
        initial="xlsx",
    )

    def __init__(self, *args: Any, funds: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["fund"].choices = [("", _("All my funds")), *funds]  # type: ignore[attr-defined]


class RepaymentForm(_CurrencyForm):
    amount_fields = ("amount",)

    amount = forms.DecimalField(label=_("Amount repaid"))
    method = forms.ChoiceField(
        label=_("How was it paid?"), choices=PayoutMethod.choices, widget=forms.RadioSelect
    )
    provider = forms.CharField(
        label=_("Mobile money service or bank"), max_length=40, required=False
    )
    reference = forms.CharField(
        label=_("Transaction reference or receipt number"), max_length=100, required=False
    )
    paid_on = forms.DateField(label=_("Date repaid"), widget=DATE)
    outstanding = forms.IntegerField(widget=forms.HiddenInput)


class StatementForm(forms.Form):
    branch = forms.ChoiceField(label=_("Branch"))
    provider = forms.CharField(
        label=_("Mobile money operator"),
        help_text=_("As written on the payouts, for example Orange Money."),
        max_length=40,
    )
    statement = forms.FileField(
        label=_("The operator's statement (CSV or XLSX)"),
        help_text=_("Columns: date, reference, amount (negative for money out), fee (optional)."),
    )

    def __init__(self, *args: Any, branches: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["branch"].choices = branches  # type: ignore[attr-defined]
        self.fields["statement"].widget.attrs["accept"] = ".csv,.xlsx,text/csv"

    def clean_statement(self) -> tuple[bytes, str]:
        upload = self.cleaned_data["statement"]
        if upload.size > 5 * 1024 * 1024:
            raise forms.ValidationError(_("The file is too large."))
        return bytes(upload.read()), str(upload.name or "")


class ReconcileForm(forms.Form):
    branch = forms.ChoiceField(label=_("Branch"))
    day = forms.DateField(label=_("Day"), widget=DATE)

    def __init__(self, *args: Any, branches: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["branch"].choices = branches  # type: ignore[attr-defined]


class ExplainForm(forms.Form):
    explanation = forms.CharField(
        label=_("Why is it right?"),
        help_text=_("For example: the operator booked it the next day; receipt found."),
        max_length=1000,
    )
