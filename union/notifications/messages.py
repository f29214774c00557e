"""The texts of the core's messages to members, and rendering any registered kind in the
member's own language. Apps register their own kinds (union.registry.register_message).

Messages are short and neutral: a phone may be shared, so nothing says "union" or
"sex work" unless the member is the one reading their own account screen.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from union import registry


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


def register() -> None:
    """The core's own messages; each app registers its own the same way."""
    registry.register_message("welcome", _welcome)
    registry.register_message("set_password_code", _set_password_code)


def render(kind: str, language: str, context: dict[str, Any]) -> tuple[str, str]:
    """The subject and body of a message of a registered kind, in `language`."""
    renderer = registry.message_renderer(kind)
    with translation.override(language):
        return renderer(context)


def render_many(kind: str, language: str, contexts: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """render() for many messages in one language, switching it on once."""
    renderer = registry.message_renderer(kind)
    with translation.override(language):
        return [renderer(context) for context in contexts]
