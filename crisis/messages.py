"""The crisis app's texts to responders and coordinators, registered with the outbox.

An alert carries the reply code and the urgency: no name, no place, no story. A phone may
be shared, and an SMS passes through the provider and the network in clear. Replies that
say a call-out is taken name a role, never a person. Called with the recipient's language
active (union.notifications.messages.render).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.conf import settings
from django.utils import dateformat, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crisis.models import DispatchRole, Urgency
from union import registry


@lru_cache(maxsize=128)
def _alert_templates(language: str | None, urgent: bool) -> tuple[str, str]:
    """The alert's texts in a language, before the code goes in: looked up once per
    language, since a sweep renders thousands of alerts (gettext is the costly part)."""
    subject = _("Call-out %(code)s")
    first = _("URGENT call-out %(code)s.") if urgent else _("Call-out %(code)s.")
    return subject, first + " " + _("Reply OK %(code)s if you go, NO %(code)s if you cannot.")


def _alert(ctx: dict[str, Any]) -> tuple[str, str]:
    values = {"code": ctx["code"]}
    urgent = int(ctx.get("urgency", 0)) == Urgency.URGENT
    subject, body = _alert_templates(translation.get_language(), urgent)
    return subject % values, body % values


def _reminder(ctx: dict[str, Any]) -> tuple[str, str]:
    code = ctx["code"]
    subject = _("Call-out %(code)s") % {"code": code}
    body = _(
        "Call-out %(code)s: are you there? Reply ARRIVED %(code)s, or NO %(code)s if you cannot go."
    ) % {"code": code}
    return subject, body


def _role(value: str) -> str:
    labels = dict(DispatchRole.choices)
    return str(labels.get(value, _("another responder")))


def _words(keywords: dict[str, list[str]]) -> str:
    names = {"ok": "OK", "no": "NO", "arrived": "ARRIVED", "done": "DONE", "help": "HELP"}
    parts = [
        f"{', '.join(words)} = {names[action]}"
        for action, words in keywords.items()
        if action in names and words
    ]
    return "; ".join(parts)


def _reply(ctx: dict[str, Any]) -> tuple[str, str]:
    kind = ctx["reply"]
    values = {
        "code": ctx.get("code", ""),
        "codes": ctx.get("codes", ""),
        "first": ctx.get("first", ""),
        "other": ctx.get("other", ""),
        "role": _role(ctx.get("role", "")),
    }
    texts = {
        "accepted": _(
            "Thank you: call-out %(code)s is yours. Reply ARRIVED %(code)s when you are there."
        ),
        "declined": _("Noted: call-out %(code)s goes to the next person."),
        "moved_on": _("Noted. Call-out %(code)s had already gone to the next person."),
        "arrived": _("Noted: you are there. Reply DONE %(code)s when it is over."),
        "done": _("Thank you. Call-out %(code)s is marked done."),
        "taken": _("Call-out %(code)s is already taken by the %(role)s. No need to go."),
        "closed": _("Call-out %(code)s is already closed. No need to go."),
        "merged": _("Call-out %(code)s was joined with call-out %(other)s."),
        "duplicate": _("You already answered call-out %(code)s."),
        "not_now": _("You are already there. Reply DONE %(code)s when it is over."),
        "none_open": _("You have no open call-out."),
        "which": _(
            "You have several open call-outs: %(codes)s. Reply with the code, e.g. OK %(first)s."
        ),
        "unreadable": _("Sorry, we did not understand. Reply HELP for the words to use."),
        "stop": _("You will get no more alerts. Ask your coordinator to put you back."),
        "help": _(
            "Reply with a word and the code: OK 4821 (going), NO 4821 (cannot go), "
            "ARRIVED 4821, DONE 4821. Or 1 going, 2 cannot go, 3 arrived, 4 done. "
            "STOP: no more alerts."
        ),
    }
    if kind == "not_yours":
        body = _("%(code)s is not one of your call-outs.") % values
        if values["codes"]:
            body += " " + _("Your open call-outs: %(codes)s.") % values
    else:
        body = texts[kind] % values
    if kind == "help":
        words = _words(ctx.get("words") or {})
        if words:
            body += " " + _("Also: %(words)s.") % {"words": words}
    return _("%(site)s crisis team") % {"site": settings.SITE_NAME}, body


def _sweep_stalled(ctx: dict[str, Any]) -> tuple[str, str]:
    subject = _("%(site)s: alerts are not moving on") % {"site": settings.SITE_NAME}
    body = ngettext(
        "Unanswered alerts have not been passed on for %(minutes)s minute. Watch open "
        "call-outs by hand and tell the technical team.",
        "Unanswered alerts have not been passed on for %(minutes)s minutes. Watch open "
        "call-outs by hand and tell the technical team.",
        int(ctx["minutes"]),
    ) % {"minutes": ctx["minutes"]}
    return subject, body


def _safety(ctx: dict[str, Any]) -> tuple[str, str]:
    """The coordinator's own words, in the member's language when written in it."""
    texts: dict[str, str] = ctx["texts"]
    language = translation.get_language() or ""
    body = texts.get(language) or texts.get(ctx.get("main", "")) or next(iter(texts.values()))
    return _("Safety alert"), body


def _court(ctx: dict[str, Any]) -> tuple[str, str]:
    # Neutral for the member: a phone may be shared, so no "court" in her text.
    subject = _("A reminder from %(site)s") % {"site": settings.SITE_NAME}
    if ctx.get("case"):
        body = _("Court date tomorrow at %(time)s (case %(case)s).") % ctx
    else:
        body = _("Reminder: your appointment tomorrow at %(time)s.") % ctx
    return subject, body


def _coverage(ctx: dict[str, Any]) -> tuple[str, str]:
    subject = _("%(site)s: the crisis rota") % {"site": settings.SITE_NAME}
    parts = []
    if ctx["gaps"]:
        # The first gap is a datetime in the branch's zone: named in the reader's language.
        first = dateformat.format(ctx["first"], "D j H:i") if ctx.get("first") else ""
        parts.append(
            ngettext(
                "%(gaps)s gap in the next 7 days, on %(first)s.",
                "%(gaps)s gaps in the next 7 days, the first on %(first)s.",
                int(ctx["gaps"]),
            )
            % {"gaps": ctx["gaps"], "first": first}
        )
    if ctx["unreachable"]:
        parts.append(
            ngettext(
                "%(unreachable)s responder on the rota cannot get alerts.",
                "%(unreachable)s responders on the rota cannot get alerts.",
                int(ctx["unreachable"]),
            )
            % ctx
        )
    return subject, _("Crisis rota:") + " " + " ".join(parts)


def _shift(ctx: dict[str, Any]) -> tuple[str, str]:
    subject = _("A reminder from %(site)s") % {"site": settings.SITE_NAME}
    return subject, _("Reminder: you are on duty tomorrow from %(time)s.") % ctx


def register() -> None:
    registry.register_message("crisis_alert", _alert)
    registry.register_message("crisis_reminder", _reminder)
    registry.register_message("crisis_reply", _reply)
    registry.register_message("crisis_sweep_stalled", _sweep_stalled)
    registry.register_message("crisis_safety", _safety)
    registry.register_message("crisis_court", _court)
    registry.register_message("crisis_coverage", _coverage)
    registry.register_message("crisis_shift", _shift)
