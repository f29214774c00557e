"""Template helpers of the public site."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from cms import quick_exit

register = template.Library()


@register.simple_tag
def quick_exit_script() -> SafeString:
    """The quick exit's inline script (its hash is in the Content-Security-Policy)."""
    return format_html("<script>{}</script>", mark_safe(quick_exit.SCRIPT))  # noqa: S308


@register.simple_tag
def quick_exit_url() -> str:
    """Where the quick-exit button goes (settings.CMS_QUICK_EXIT_URL)."""
    return str(getattr(settings, "CMS_QUICK_EXIT_URL", "https://www.bbc.com/weather"))
