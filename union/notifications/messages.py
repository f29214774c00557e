"""The texts of messages to members, rendered in the member's own language.

Messages are short and neutral: a phone may be shared, so nothing says "union" or
"sex work" unless the member is the one reading their own account screen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _


def _welcome(ctx: dict[str, Any]) -> tuple[str, str]:
    subject = _("Your %(site)s number") % {"site": settings.SITE_NAME}
    body = _("Welcome. Your number is %(number)s.") % ctx
    if ctx.get("code"):
        body += " " + _("To set your password, use code %(code)s within %(hours)s hours.") % {
            "code": ctx["code"],
            "hours": settings.SET_PASSWORD_CODE_HOURS,
        }
    return subject, body


def _set_password_code(ctx: dict[str, Any]) -> tuple[str, str]:
    subject = _("Your %(site)s code") % {"site": settings.SITE_NAME}
    body = _("Your code to set a password is %(code)s. It works for %(hours)s hours.") % {
        "code": ctx["code"],
        "hours": settings.SET_PASSWORD_CODE_HOURS,
    }
    return subject, body


def _money(ctx: dict[str, Any]) -> str:
    from dues.money import format_money

    return format_money(int(ctx["amount"]), str(ctx["currency"]))


def _dues_reminder(ctx: dict[str, Any]) -> tuple[str, str]:
    subject = _("A reminder from %(site)s") % {"site": settings.SITE_NAME}
    body = _(
        "Your contribution is %(months)s month(s) behind; you owe %(amount)s. "
        "You can pay your branch treasurer in cash or by mobile money."
    ) % {"months": ctx["months"], "amount": _money(ctx)}
    return subject, body


def _dues_payment(ctx: dict[str, Any]) -> tuple[str, str]:
    subject = _("Payment received")
    body = _("We received %(amount)s. Thank you.") % {"amount": _money(ctx)}
    if ctx.get("receipt"):
        body += " " + _("Receipt %(receipt)s.") % {"receipt": ctx["receipt"]}
    return subject, body


def _dues_card_failed(ctx: dict[str, Any]) -> tuple[str, str]:
    subject = _("Card payment not made")
    body = _("Your monthly card payment did not go through. Nothing was taken.")
    return subject, body


def _vote_held(ctx: dict[str, Any]) -> tuple[str, str]:
    # Neutral on purpose: no title, nothing about the union, on a possibly shared phone.
    subject = _("%(site)s: a count needs you") % {"site": settings.SITE_NAME}
    body = _("A count you are responsible for does not add up. Please sign in to the office.")
    return subject, body


RENDERERS: dict[str, Callable[[dict[str, Any]], tuple[str, str]]] = {
    "welcome": _welcome,
    "set_password_code": _set_password_code,
    "vote_held": _vote_held,
    "dues_reminder": _dues_reminder,
    "dues_payment": _dues_payment,
    "dues_card_failed": _dues_card_failed,
}


def render(kind: str, language: str, context: dict[str, Any]) -> tuple[str, str]:
    with translation.override(language):
        return RENDERERS[kind](context)
