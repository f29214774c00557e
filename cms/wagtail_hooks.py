"""Wagtail admin hooks: the script that replaces Wagtail's inline ones (static/cms/admin.js)."""

from __future__ import annotations

from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import SafeString
from wagtail import hooks


@hooks.register("insert_global_admin_js")
def start_widgets_without_inline_scripts() -> SafeString:
    return format_html('<script src="{}"></script>', static("cms/admin.js"))
