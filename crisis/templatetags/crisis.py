"""Crisis work on other apps' pages (the office home) without the core importing crisis."""

from __future__ import annotations

from typing import Any

from django import template

from crisis import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def open_callouts(context: dict[str, Any]) -> dict[str, int]:
    """How many call-outs the user's crisis team has open, and how many wait for them."""
    user = context["request"].user
    return {
        "open": selectors.open_callouts(user).count(),
        "mine": len(selectors.waiting_for(user)),
    }
