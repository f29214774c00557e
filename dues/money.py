"""Amounts of money: integers in the currency's minor unit, as Stripe counts them.

XOF has no minor unit (1000 means 1000 francs); ZAR has cents (5000 means R50.00).
Decimal appears only at the edges: parsing what an officer typed, and display.
Never float.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from django.utils import formats, timezone

# Stripe's zero-decimal currencies (https://docs.stripe.com/currencies#zero-decimal).
ZERO_DECIMAL = frozenset(
    {
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    }
)


def decimals(currency: str) -> int:
    return 0 if currency.upper() in ZERO_DECIMAL else 2


def to_minor(value: Decimal, currency: str) -> int:
    """Decimal major units (what people type) to integer minor units.

    Raises ValueError for amounts that have more decimals than the currency allows:
    150.5 XOF is a typing mistake, not something to round silently.
    """
    places = decimals(currency)
    try:
        scaled = value.scaleb(places)
    except InvalidOperation as exc:  # pragma: no cover - Decimal inputs are already valid
        raise ValueError("not a number") from exc
    if scaled != scaled.to_integral_value():
        raise ValueError("too many decimals")
    return int(scaled.to_integral_value(rounding=ROUND_HALF_UP))


def to_major(amount: int, currency: str) -> Decimal:
    return Decimal(amount).scaleb(-decimals(currency))


def format_money(amount: int, currency: str, *, use_l10n: bool = True) -> str:
    """1 000 XOF, 50.00 ZAR: the amount in the active language's number format."""
    value = to_major(amount, currency)
    text = formats.number_format(
        value, decimal_pos=decimals(currency), use_l10n=use_l10n, force_grouping=True
    )
    return f"{text}\u00a0{currency}"


# --- months --------------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(period: date, months: int) -> date:
    """The first day of the month `months` after (or before) the month of `period`."""
    index = period.year * 12 + (period.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def month_end(period: date) -> date:
    return period.replace(day=calendar.monthrange(period.year, period.month)[1])


def months_between(earlier: date, later: date) -> int:
    """Whole calendar months from the month of `earlier` to the month of `later`."""
    return (later.year - earlier.year) * 12 + (later.month - earlier.month)


def parse_period(text: str) -> date:
    """'2026-11' -> date(2026, 11, 1). Raises ValueError otherwise."""
    year, _, month = text.strip().partition("-")
    if len(year) != 4 or not year.isdigit() or not month.isdigit() or not 1 <= int(month) <= 12:
        raise ValueError(f"not a month: {text!r} (expected YYYY-MM)")
    return date(int(year), int(month), 1)


def local_now(time_zone: str) -> datetime:
    return timezone.now().astimezone(ZoneInfo(time_zone))


def local_today(time_zone: str) -> date:
    """Today's date where the branch is: the 1st of the month starts at local midnight."""
    return local_now(time_zone).date()
