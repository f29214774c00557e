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


def register() -> None:
    registry.register_message("vote_held", _vote_held)
