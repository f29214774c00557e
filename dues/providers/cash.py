from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from dues.models import Method
from dues.providers.base import CounterDetails, PaymentProvider

_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-_/]{2,99}$")


class CashProvider(PaymentProvider):
    """Money in hand: recording it is confirming it (above the threshold, with a second
    officer)."""

    method = Method.CASH
    at_counter = True


class MobileMoneyProvider(PaymentProvider):
    """Orange Money, Moov, M-Pesa...: the operator's transaction reference proves the payment."""

    method = Method.MOBILE_MONEY
    at_counter = True

    def clean_details(self, *, provider: str, external_id: str) -> CounterDetails:
        provider = " ".join(provider.split())[:40]
        external_id = external_id.strip()
        errors = {}
        if not provider:
            errors["provider"] = _("Say which mobile money service was used.")
        if not _REFERENCE.match(external_id):
            errors["external_id"] = _(
                "Enter the transaction reference from the mobile money message "
                "(letters and digits)."
            )
        if errors:
            raise ValidationError(errors)
        return CounterDetails(provider=provider, external_id=external_id)
