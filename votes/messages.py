"""The texts of the votes app's messages, registered with the core's outbox."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from union import registry


def _vote_held(ctx: dict[str, Any]) -> tuple[str, str]:
    # Neutral on purpose: no title, nothing about the union, on a possibly shared phone.
    subject = _("%(site)s: a count needs you") % {"site": settings.SITE_NAME}
    body = _("A count you are responsible for does not add up. Please sign in to the office.")
    return subject, body


def _vote_teller(ctx: dict[str, Any]) -> tuple[str, str]:
    subject = _("%(site)s: a task for you") % {"site": settings.SITE_NAME}
    body = _("You are asked to keep a key for a count. Please sign in to print your key sheet.")
    return subject, body


def _vote_tellers(ctx: dict[str, Any]) -> tuple[str, str]:
    subject = _("%(site)s: a vote needs you") % {"site": settings.SITE_NAME}
    body = _(
        "A vote you run cannot open: not every teller has a key sheet yet. "
        "Please sign in to the office."
    )
    return subject, body


def register() -> None:
    registry.register_message("vote_held", _vote_held)
    registry.register_message("vote_teller", _vote_teller)
    registry.register_message("vote_tellers", _vote_tellers)
