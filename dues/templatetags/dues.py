from __future__ import annotations

from django import template

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
