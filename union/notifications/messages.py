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
from django.utils.translation import ngettext

from union import registry


def _welcome(ctx: dict[str, Any]) -> tuple[str, str]:
    subject = _("Your %(site)s number") % {"site": settings.SITE_NAME}
    body = _("Welcome. Your number is %(number)s.") % ctx
    if ctx.get("code"):
        hours = settings.SET_PASSWORD_CODE_HOURS
        body += " " + ngettext(
            "To set your password, use code %(code)s within %(hours)s hour.",
            "To set your password, use code %(code)s within %(hours)s hours.",
            hours,
        ) % {"code": ctx["code"], "hours": hours}
    return subject, body


def _set_password_code(ctx: dict[str, Any]) -> tuple[str, str]:
    subject = _("Your %(site)s code") % {"site": settings.SITE_NAME}
    hours = settings.SET_PASSWORD_CODE_HOURS
    body = ngettext(
        "Your code to set a password is %(code)s. It works for %(hours)s hour.",
        "Your code to set a password is %(code)s. It works for %(hours)s hours.",
        hours,
    ) % {"code": ctx["code"], "hours": hours}
    return subject, body


def _office_waiting(ctx: dict[str, Any]) -> tuple[str, str]:
    """To an officer: something waits for them (the name of the queue, nothing about whom)."""
    queue = registry.office_queue(str(ctx["queue"]))
    label = str(queue.label) if queue is not None else ""
    subject = _("Waiting for you at %(site)s") % {"site": settings.SITE_NAME}
    body = _("%(what)s: something waits for you. Sign in to the office to see it.") % {
        "what": label
    }
    return subject, body


def _member_moved_out(ctx: dict[str, Any]) -> tuple[str, str]:
    # To the officers of the branch she left: neither her name, nor her number, nor where
    # she went (a phone may be shared; she may be moving away from someone).
    subject = _("A change in your branch's list")
    body = _("A member has moved to another branch. Sign in to the office to see the moves.")
    return subject, body


def _member_moved(ctx: dict[str, Any]) -> tuple[str, str]:
    subject = _("Your membership has moved")
    body = _("Your membership is now with the branch of your new town. Your number stays the same.")
    return subject, body


def register() -> None:
    """The core's own messages; each app registers its own the same way."""
    registry.register_message("welcome", _welcome)
    registry.register_message("set_password_code", _set_password_code)
    registry.register_message("office_waiting", _office_waiting)
    registry.register_message("member_moved_out", _member_moved_out)
    registry.register_message("member_moved", _member_moved)


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
