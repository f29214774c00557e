"""Wagtail's chooser widgets without their inline script, for the admin's strict
Content-Security-Policy (cms/admin_guard.py).

Wagtail renders every chooser (image, page, document, snippet) as its HTML followed by
`<script>new ImageChooser("id", {...});</script>`, which a policy without 'unsafe-inline'
blocks. Here the same call is left as a hidden marker that static/cms/admin.js turns into
the same constructor call. A chooser whose class writes its own script (the workflow task
chooser) keeps Wagtail's rendering.
"""

from __future__ import annotations

import json
from typing import Any

from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from wagtail.admin.widgets import BaseChooser

# The constructors static/cms/admin.js may call (it refuses any other name).
CONSTRUCTORS = ("Chooser", "ImageChooser", "DocumentChooser", "PageChooser", "SnippetChooser")

_wagtail_render = BaseChooser.render


def render_chooser(
    self: BaseChooser,
    name: str,
    value: Any,
    attrs: dict[str, Any] | None = None,
    renderer: Any = None,
) -> SafeString:
    own_script = type(self).render_js_init is not BaseChooser.render_js_init
    if own_script or self.js_constructor not in CONSTRUCTORS or not attrs or "id" not in attrs:
        return _wagtail_render(self, name, value, attrs, renderer)
    value_data = self.get_value_data(value)
    html = self.render_html(name, value_data, attrs)
    marker = format_html(
        '<span hidden data-cms-init="chooser" data-cms-constructor="{}" data-cms-for="{}" '
        'data-cms-config="{}"></span>',
        self.js_constructor,
        attrs["id"],
        json.dumps(self.get_js_init_options(attrs["id"], name, value_data)),
    )
    return mark_safe(f"{html}{marker}")  # noqa: S308  # Wagtail's own HTML, and an escaped marker


def install() -> None:
    BaseChooser.render = render_chooser  # type: ignore[method-assign]
