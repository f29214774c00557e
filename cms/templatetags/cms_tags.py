"""Template helpers of the public site."""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def quick_exit_url() -> str:
    """Where the quick-exit button goes (settings.CMS_QUICK_EXIT_URL)."""
    return str(getattr(settings, "CMS_QUICK_EXIT_URL", "https://www.bbc.com/weather"))
