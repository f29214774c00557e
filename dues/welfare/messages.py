"""The texts of welfare messages, registered with the core's outbox.

Short and neutral: a phone may be shared, so nothing names the union, a fund or what the
help was for, and no message carries a link to act on (an old link must never approve or
pay anything). Called with the member's language active.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from dues.money import format_money
from union import registry


def _request(ctx: dict[str, Any]) -> str:
    day = date.fromisoformat(str(ctx["submitted_on"]))
    return _("Your request of %(date)s") % {"date": formats.date_format(day, "SHORT_DATE_FORMAT")}


def _received(ctx: dict[str, Any]) -> tuple[str, str]:
    return _("Request received"), _("%(request)s was received. We will tell you the answer.") % {
        "request": _request(ctx)
    }


def _needs_info(ctx: dict[str, Any]) -> tuple[str, str]:
    return _("A question about your request"), _(
        "%(request)s: we need more information. Please see your account or contact your branch."
    ) % {"request": _request(ctx)}


def _approved(ctx: dict[str, Any]) -> tuple[str, str]:
    amount = format_money(int(ctx["amount"]), str(ctx["currency"]))
    return _("Request approved"), _("%(request)s is approved: %(amount)s.") % {
        "request": _request(ctx),
        "amount": amount,
    }


def _rejected(ctx: dict[str, Any]) -> tuple[str, str]:
    return _("About your request"), _(
        "%(request)s could not be approved. Your branch can tell you more."
    ) % {"request": _request(ctx)}


def _paid(ctx: dict[str, Any]) -> tuple[str, str]:
    amount = format_money(int(ctx["amount"]), str(ctx["currency"]))
    return _("Payment sent"), _("%(request)s: %(amount)s has been paid.") % {
        "request": _request(ctx),
        "amount": amount,
    }


def _unmatched(ctx: dict[str, Any]) -> tuple[str, str]:
    day = date.fromisoformat(str(ctx["day"]))
    count = int(ctx["count"])
    return _("Payouts to check"), ngettext(
        "%(count)s line of %(date)s did not match the cash book or the statement. "
        "Please see the reconciliation page.",
        "%(count)s lines of %(date)s did not match the cash book or the statement. "
        "Please see the reconciliation page.",
        count,
    ) % {"count": count, "date": formats.date_format(day, "SHORT_DATE_FORMAT")}


def register() -> None:
    registry.register_message("welfare_received", _received)
    registry.register_message("welfare_needs_info", _needs_info)
    registry.register_message("welfare_approved", _approved)
    registry.register_message("welfare_rejected", _rejected)
    registry.register_message("welfare_paid", _paid)
    registry.register_message("welfare_unmatched", _unmatched)
