"""The texts of the dues app's messages to members, registered with the core's outbox.

Short and neutral: a phone may be shared, so nothing names the union or the work.
Called with the member's language active (union.notifications.messages.render).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dues.money import format_money
from union import registry


def _money(ctx: dict[str, Any]) -> str:
    return format_money(int(ctx["amount"]), str(ctx["currency"]))


def _dues_reminder(ctx: dict[str, Any]) -> tuple[str, str]:
    subject = _("A reminder from %(site)s") % {"site": settings.SITE_NAME}
    body = ngettext(
        "Your contribution is %(months)s month behind; you owe %(amount)s. "
        "You can pay your branch treasurer in cash or by mobile money.",
        "Your contribution is %(months)s months behind; you owe %(amount)s. "
        "You can pay your branch treasurer in cash or by mobile money.",
        int(ctx["months"]),
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


def register() -> None:
    registry.register_message("dues_reminder", _dues_reminder)
    registry.register_message("dues_payment", _dues_payment)
    registry.register_message("dues_card_failed", _dues_card_failed)
