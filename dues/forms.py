"""Forms for dues screens. They parse and check input; writes go through dues.services.

Amounts are typed in major units (francs, rand) and become integers in the minor unit
here, once, with the branch's currency.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.translation import gettext_lazy as _

from dues import money
from dues.models import CheckoutPurpose, Method, Rate
from dues.services.card import MAX_MONTHS_AHEAD
from union.forms import DateInput


class AmountField(forms.DecimalField):
    """Money typed by a person; cleaned to integer minor units of `currency`."""

    def __init__(
        self, *args: Any, currency: str = "XOF", allow_zero: bool = False, **kwargs: Any
    ) -> None:
        self.currency = currency
        self.allow_zero = allow_zero
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", money.decimals(currency))
        # localize: a text box that reads "50,00" in French (browsers' number inputs do not).
        kwargs.setdefault("localize", True)
        super().__init__(*args, **kwargs)
        self.widget.attrs.update({"inputmode": "decimal", "autocomplete": "off"})

    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        if isinstance(value, str):
            # "1 000" as people write it, with ordinary or non-breaking spaces.
            value = "".join(value.split()).replace("\u202f", "")
            thousands = formats.get_format("THOUSAND_SEPARATOR")
            if thousands and thousands != formats.get_format("DECIMAL_SEPARATOR"):
                value = value.replace(thousands, "")
        return super().to_python(value)

    def clean(self, value: Any) -> int | None:  # type: ignore[override]
        cleaned: Decimal | None = super().clean(value)
        if cleaned is None:
            return None
        if cleaned < 0 or (cleaned == 0 and not self.allow_zero):
            raise ValidationError(_("Enter an amount greater than zero."), code="amount")
        try:
            return money.to_minor(cleaned, self.currency)
        except ValueError as exc:
            raise ValidationError(
                _("Too many decimals for this currency."), code="decimals"
            ) from exc


class SearchForm(forms.Form):
    q = forms.CharField(label=_("Number, working name or phone"), max_length=100, required=False)


class PaymentForm(forms.Form):
    amount = AmountField(label=_("Amount"))
    method = forms.ChoiceField(
        label=_("How was it paid?"),
        choices=[
            (Method.CASH, Method.CASH.label),
            (Method.MOBILE_MONEY, Method.MOBILE_MONEY.label),
        ],
        initial=Method.CASH,
        widget=forms.RadioSelect,
    )
    provider = forms.CharField(
        label=_("Mobile money service"),
        help_text=_("For example Orange Money."),
        max_length=40,
        required=False,
    )
    external_id = forms.CharField(
        label=_("Transaction reference"),
        help_text=_("The reference in the confirmation message."),
        max_length=100,
        required=False,
    )
    receipt_number = forms.CharField(
        label=_("Receipt number"),
        help_text=_(
            "The number printed on the receipt from the branch's receipt book. For mobile "
            "money, only if you wrote a receipt."
        ),
        max_length=20,
        required=False,
    )
    paid_on = forms.DateField(label=_("Date paid"), widget=DateInput())

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["amount"] = AmountField(
            label=_("Amount (%(currency)s)") % {"currency": currency}, currency=currency
        )
        self.fields["receipt_number"].widget.attrs.update({"autocomplete": "off"})
        # Shown only while mobile money is chosen (site.css, no script needed).
        for name in ("provider", "external_id"):
            self.fields[name].row_class = "for-mobile-money"  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("method") == Method.CASH and not (data.get("receipt_number") or "").strip():
            self.add_error(
                "receipt_number",
                _("Enter the number printed on the receipt (letters and digits)."),
            )
        return data


class WaiverForm(forms.Form):
    amount = AmountField(label=_("Amount to waive"))
    reason = forms.CharField(
        label=_("Reason"),
        help_text=_("Kept encrypted. Say only what the auditors need."),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        # It shares the member's page with the payment form: its own ids, so that each
        # label names one field ("Amount" twice would label both boxes).
        kwargs.setdefault("auto_id", "waiver_%s")
        super().__init__(*args, **kwargs)
        self.fields["amount"] = AmountField(
            label=_("Amount to waive (%(currency)s)") % {"currency": currency}, currency=currency
        )


class ReversalForm(forms.Form):
    reason = forms.CharField(
        label=_("What was wrong?"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class RateForm(forms.Form):
    rate = forms.ChoiceField(label=_("Rate"), choices=Rate.choices)


class PlanForm(forms.Form):
    monthly_amount = AmountField(label=_("Monthly dues"))
    solidarity_amount = AmountField(label=_("Solidarity rate (reduced monthly dues)"))
    grace_months = forms.IntegerField(
        label=_("Grace months"),
        help_text=_("How many months a member may be behind before they lapse."),
        min_value=0,
        max_value=24,
        initial=3,
    )
    charge_joining_month = forms.BooleanField(
        label=_("Members who join after the 1st pay for that month"), required=False, initial=True
    )
    confirm_threshold = AmountField(
        label=_("Second officer above"),
        help_text=_(
            "Cash or mobile money above this amount counts only once a second officer confirms it."
        ),
    )

    def __init__(self, *args: Any, currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("monthly_amount", "solidarity_amount", "confirm_threshold"):
            old = self.fields[name]
            self.fields[name] = AmountField(
                label=f"{old.label} ({currency})",
                help_text=old.help_text,
                currency=currency,
                allow_zero=name == "confirm_threshold",
            )


class CardPaymentForm(forms.Form):
    purpose = forms.ChoiceField(
        label=_("What do you want to pay?"),
        choices=[
            (CheckoutPurpose.MONTHS, _("Months of dues")),
            (CheckoutPurpose.ARREARS, _("Everything I owe")),
        ],
        initial=CheckoutPurpose.MONTHS,
        widget=forms.RadioSelect,
    )
    months = forms.IntegerField(
        label=_("How many months?"), min_value=1, max_value=MAX_MONTHS_AHEAD, initial=1
    )


class CashBookForm(forms.Form):
    day = forms.DateField(label=_("Day"), widget=DateInput())


class ExchangeRateForm(forms.Form):
    """What 1 unit of the branch's currency is worth in another branch's currency."""

    to_currency = forms.ChoiceField(label=_("Other currency"))
    rate = forms.DecimalField(
        label=_("Value of 1 unit of your currency"),
        min_value=Decimal("0.000000000001"),
        max_digits=12,
        help_text=_("For example 0.0302 when 1 XOF is worth 0.0302 ZAR."),
    )

    def __init__(self, *args: Any, currencies: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_currency"].choices = [(c, c) for c in currencies]  # type: ignore[attr-defined]
