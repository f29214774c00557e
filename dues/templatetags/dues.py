from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils import formats

from dues.money import format_money

register = template.Library()


@register.filter
def money(amount: int | None, currency: str) -> str:
    """{{ entry.amount|money:entry.currency }}: minor units shown in the active language."""
    if amount is None:
        return ""
    return format_money(int(amount), currency)


@register.filter
def money_abs(amount: int | None, currency: str) -> str:
    if amount is None:
        return ""
    return format_money(abs(int(amount)), currency)


@register.filter
def standing_label(code: str) -> str:
    """{{ member.standing|standing_label }}: a `with_standing` code in the one wording."""
    from dues.selectors import Standing

    return str(Standing(code).label) if code in Standing.values else ""


@register.filter
def percent_bp(basis_points: int | None) -> str:
    """{{ rule.share_bp|percent_bp }}: 2050 basis points as "20.5" (without the % sign)."""
    if basis_points is None:
        return ""
    return formats.number_format(Decimal(int(basis_points)).scaleb(-2).normalize())


@register.simple_tag(takes_context=True)
def welfare_counts(context: Any) -> Any:
    """{% welfare_counts as counts %}: what waits for this officer in the welfare funds."""
    from dues.welfare.selectors import office_counts

    return office_counts(context["request"].user)
