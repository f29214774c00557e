"""Wagtail admin hooks.

- The script that replaces Wagtail's inline ones (static/cms/admin.js), so that the admin
  runs under the site's script-src 'self'.
- The admin's own styles (static/cms/admin.css): what axe finds in Wagtail's screens on a
  phone, fixed without touching its markup.
- The CMS admin in the editor's language, down to the names stored in the database: the
  approval workflow and its task are rows named in English (cms.setup); the button that
  submits a page names them. Their names are also the msgids of the task's label, so the
  button shows them in the editor's language.
"""

from __future__ import annotations

from typing import Any

from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from wagtail import hooks
from wagtail.admin.action_menu import ActionMenuItem, SubmitForModerationMenuItem

from cms.setup import WORKFLOW_NAME


@hooks.register("insert_global_admin_js")
def start_widgets_without_inline_scripts() -> SafeString:
    return format_html('<script src="{}"></script>', static("cms/admin.js"))


@hooks.register("insert_global_admin_css")
def admin_fit_for_a_phone() -> SafeString:
    return format_html('<link rel="stylesheet" href="{}">', static("cms/admin.css"))


class SubmitInTheEditorsLanguage(SubmitForModerationMenuItem):
    def get_context_data(self, parent_context: dict[str, Any]) -> dict[str, Any]:
        context = super().get_context_data(parent_context)
        label = str(context.get("label", ""))
        context["label"] = label.replace(WORKFLOW_NAME, gettext(WORKFLOW_NAME))
        return context


@hooks.register("construct_page_action_menu")
def translate_the_workflow_name(
    menu_items: list[ActionMenuItem], request: Any, context: Any
) -> None:
    for index, item in enumerate(menu_items):
        if type(item) is SubmitForModerationMenuItem:
            menu_items[index] = SubmitInTheEditorsLanguage(order=item.order)
