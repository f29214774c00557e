"""The money-out side of the payment methods: how a treasurer pays an approved application.

Like the inbound providers, each method says what it needs and checks it: cash needs
nothing (the payee's signature is on paper), mobile money needs the operator and its
transaction reference, a bank transfer the bank and its reference. The treasurer records
what was sent; nothing here calls an operator's API, so no third party learns more than
the transfer itself tells it. A future provider that sends money by API would implement
`send` and return the operator's reference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from dues.welfare.models import PayoutMethod

_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-_/]{2,99}$")


@dataclass(frozen=True)
class PayoutDetails:
    provider: str = ""  # the operator or the bank
    reference: str = ""  # their transaction reference


class PayoutProvider:
    method: str = ""
    needs_reference: bool = False

    def clean(self, *, provider: str, reference: str) -> PayoutDetails:
        """Normalise and check what the treasurer typed; ValidationError if incomplete."""
        provider = " ".join(provider.split())[:40]
        reference = reference.strip()
        errors = {}
        if self.needs_reference:
            if not provider:
                errors["provider"] = self.provider_missing()
            if not _REFERENCE.match(reference):
                errors["reference"] = _(
                    "Enter the transaction reference (letters and digits, at least 3)."
                )
        elif reference and not _REFERENCE.match(reference):
            errors["reference"] = _("A receipt number has letters and digits only.")
        if errors:
            raise ValidationError(errors)
        return PayoutDetails(provider=provider if self.needs_reference else "", reference=reference)

    def provider_missing(self) -> str:
        return _("Say which service was used.")


class CashPayout(PayoutProvider):
    """Cash handed over; an optional receipt number from the branch's receipt book."""

    method = PayoutMethod.CASH


class MobileMoneyPayout(PayoutProvider):
    method = PayoutMethod.MOBILE_MONEY
    needs_reference = True

    def provider_missing(self) -> str:
        return _("Say which mobile money service was used.")


class BankTransferPayout(PayoutProvider):
    method = PayoutMethod.BANK_TRANSFER
    needs_reference = True

    def provider_missing(self) -> str:
        return _("Say which bank sent it.")


PAYOUT_PROVIDERS: dict[str, PayoutProvider] = {
    PayoutMethod.CASH: CashPayout(),
    PayoutMethod.MOBILE_MONEY: MobileMoneyPayout(),
    PayoutMethod.BANK_TRANSFER: BankTransferPayout(),
}


def payout_provider(method: str) -> PayoutProvider:
    try:
        return PAYOUT_PROVIDERS[method]
    except KeyError:
        raise ValidationError({"method": _("Choose how the money was paid.")}) from None
