"""Phone numbers are stored in E.164 so that one number has one keyed hash."""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# The region used for numbers written without a country code, by branch currency
# when nothing better is known (a XOF branch is most likely in Mali, ZAR in South Africa).
REGION_BY_CURRENCY = {"XOF": "ML", "ZAR": "ZA", "KHR": "KH", "INR": "IN", "USD": "KH"}


def normalise_phone(raw: str, region: str | None = None) -> str:
    """Return the number in E.164, or raise ValidationError with a translated message."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, region or settings.DEFAULT_PHONE_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(_("This is not a phone number we can read."), code="phone") from exc
    if not phonenumbers.is_possible_number(number):
        raise ValidationError(_("This phone number has the wrong length."), code="phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def region_for_currency(currency: str) -> str:
    return REGION_BY_CURRENCY.get(currency, settings.DEFAULT_PHONE_REGION)
