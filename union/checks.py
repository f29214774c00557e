"""Start-up checks of the core's extension points (Django's system check framework)."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register

from union import registry


@register()
def standing_rule_registered(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Votes ask the core who is in good standing. Without a rule the answer would be
    nobody or everybody; refuse to start instead."""
    if registry.has_standing_rule():
        return []
    return [
        Error(
            "No member-standing rule is registered.",
            hint="The dues app registers it in its AppConfig.ready(); is it installed?",
            id="union.E001",
        )
    ]
