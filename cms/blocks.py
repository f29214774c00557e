"""The StreamField blocks every page of the public site is built from.

Each block renders with a small template in templates/cms/blocks/. None of them loads
anything from another site: images are our own renditions, videos are links until the
visitor asks to play them, and live figures come from the platform's own database.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.documents.blocks import DocumentChooserBlock
from wagtail.images.blocks import ImageBlock, ImageChooserBlock

from cms import statistics, video

# Plain, accessible formatting only: no embeds, no inline images (images go in an image
# block, which asks for alt text), no colours.
RICH_TEXT_FEATURES = ["h2", "h3", "bold", "italic", "ol", "ul", "link", "document-link"]


class HeadingBlock(blocks.StructBlock):
    text = blocks.CharBlock(label=_("heading"), max_length=120)
    level = blocks.ChoiceBlock(
        choices=[("h2", _("Section heading")), ("h3", _("Sub-heading"))],
        default="h2",
        label=_("level"),
    )

    class Meta:
        icon = "title"
        label = _("Heading")
        template = "cms/blocks/heading.html"


class CaptionedImageBlock(blocks.StructBlock):
    image = ImageBlock(label=_("image"))
    caption = blocks.CharBlock(
        required=False,
        label=_("caption"),
        help_text=_("Shown under the image. Never name or show anyone who has not agreed."),
    )

    class Meta:
        icon = "image"
        label = _("Image")
        template = "cms/blocks/image.html"


class QuoteBlock(blocks.StructBlock):
    quote = blocks.TextBlock(label=_("quote"))
    attribution = blocks.CharBlock(
        required=False,
        max_length=120,
        label=_("who said it"),
        help_text=_("A working name or a role, never a legal name."),
    )

    class Meta:
        icon = "openquote"
        label = _("Quote")
        template = "cms/blocks/quote.html"


class LinkBlock(blocks.StructBlock):
    """A link to one of our pages or to an address; the page wins if both are given."""

    page = blocks.PageChooserBlock(required=False, label=_("page on this site"))
    url = blocks.URLBlock(required=False, label=_("or an address"))

    class Meta:
        icon = "link"
        label = _("Link")

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if not value.get("page") and not value.get("url"):
            raise StructBlockValidationError(
                block_errors={"page": ValidationError(_("Choose a page or give an address."))}
            )
        return value


class CallToActionBlock(blocks.StructBlock):
    heading = blocks.CharBlock(max_length=120, label=_("heading"))
    text = blocks.TextBlock(required=False, label=_("text"))
    link = LinkBlock(label=_("link"))
    button = blocks.CharBlock(max_length=60, label=_("button text"))

    class Meta:
        icon = "pick"
        label = _("Call to action")
        template = "cms/blocks/call_to_action.html"


class DocumentLinkBlock(blocks.StructBlock):
    document = DocumentChooserBlock(label=_("document"))
    title = blocks.CharBlock(
        required=False,
        max_length=200,
        label=_("title"),
        help_text=_("The document's own if empty."),
    )
    description = blocks.TextBlock(required=False, label=_("description"))

    class Meta:
        icon = "doc-full"
        label = _("Document")
        template = "cms/blocks/document.html"


class StatisticBlock(blocks.StructBlock):
    """A figure the editor enters, with where it comes from."""

    figure = blocks.CharBlock(max_length=20, label=_("figure"), help_text=_("For example 8 in 10"))
    label = blocks.CharBlock(max_length=160, label=_("what it counts"))
    source = blocks.CharBlock(required=False, max_length=200, label=_("source"))

    class Meta:
        icon = "table"
        label = _("Statistic")
        template = "cms/blocks/statistic.html"


class LiveStatisticsBlock(blocks.StructBlock):
    """Figures computed from the platform when the page is shown (see cms.statistics)."""

    heading = blocks.CharBlock(required=False, max_length=120, label=_("heading"))
    statistics = blocks.ListBlock(
        blocks.ChoiceBlock(choices=statistics.choices, label=_("figure")),
        min_num=1,
        label=_("figures"),
        help_text=_("Small numbers are never shown: they could point at a person."),
    )

    class Meta:
        icon = "order"
        label = _("Live figures")
        template = "cms/blocks/live_statistics.html"

    def get_context(self, value: Any, parent_context: dict[str, Any] | None = None) -> Any:
        context = super().get_context(value, parent_context)
        figures = (statistics.shown(key) for key in value["statistics"])
        context["figures"] = [figure for figure in figures if figure is not None]
        return context


class VideoBlock(blocks.StructBlock):
    """A video that loads nothing from the video site until the visitor chooses to play it."""

    url = blocks.URLBlock(
        label=_("video address"), help_text=_("A YouTube or Vimeo address, or any other link.")
    )
    title = blocks.CharBlock(max_length=160, label=_("title"))
    poster = ImageChooserBlock(
        required=False,
        label=_("still image"),
        help_text=_("Uploaded here: pictures are never fetched from the video site."),
    )
    transcript = blocks.TextBlock(required=False, label=_("transcript or summary"))

    class Meta:
        icon = "media"
        label = _("Video")
        template = "cms/blocks/video.html"

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if not value["url"].startswith("https://"):
            raise StructBlockValidationError(
                block_errors={"url": ValidationError(_("Use an https:// address."))}
            )
        return value

    def get_context(self, value: Any, parent_context: dict[str, Any] | None = None) -> Any:
        context = super().get_context(value, parent_context)
        context["video"] = video.parse(value["url"])
        return context


class JoinBlock(blocks.StructBlock):
    """Leads to the member application form, in the language the visitor is reading."""

    heading = blocks.CharBlock(max_length=120, label=_("heading"), default=_("Join the union"))
    text = blocks.TextBlock(required=False, label=_("text"))
    button = blocks.CharBlock(max_length=60, label=_("button text"), default=_("Join us"))

    class Meta:
        icon = "group"
        label = _("Join")
        template = "cms/blocks/join.html"


def _branch_choices() -> list[tuple[str, str]]:
    from union.selectors import public_branches

    return [(b.code, b.name) for b in public_branches().only("code", "name")]


class BranchContactsBlock(blocks.StructBlock):
    """How to reach a branch (or every branch): the helpline and drop-in centre its
    secretary keeps up to date in the office, read when the page is shown."""

    heading = blocks.CharBlock(required=False, max_length=120, label=_("heading"))
    branch = blocks.ChoiceBlock(
        choices=_branch_choices,
        required=False,
        label=_("branch"),
        help_text=_("Leave empty to list every branch that gives a way to reach it."),
    )

    class Meta:
        icon = "site"
        label = _("How to reach a branch")
        template = "cms/blocks/branch_contacts.html"

    def get_context(self, value: Any, parent_context: dict[str, Any] | None = None) -> Any:
        from cms import cache as page_cache
        from union.selectors import public_branches

        def contacts() -> list[Any]:
            branches = public_branches()
            if value.get("branch"):
                branches = branches.filter(code=value["branch"])
            return [b for b in branches if b.has_public_contact]

        context = super().get_context(value, parent_context)
        # Remembered until the next publish or branch change (both purge the page cache).
        context["branches"] = page_cache.remember(
            f"branch-contacts:{value.get('branch') or '*'}", contacts
        )
        return context


class BaseStreamBlock(blocks.StreamBlock):
    heading = HeadingBlock()
    paragraph = blocks.RichTextBlock(
        features=RICH_TEXT_FEATURES, label=_("Text"), template="cms/blocks/paragraph.html"
    )
    image = CaptionedImageBlock()
    quote = QuoteBlock()
    call_to_action = CallToActionBlock()
    document = DocumentLinkBlock()
    statistic = StatisticBlock()
    live_statistics = LiveStatisticsBlock()
    video = VideoBlock()
    join = JoinBlock()
    branch_contacts = BranchContactsBlock()


class CampaignUpdateBlock(blocks.StructBlock):
    date = blocks.DateBlock(label=_("date"))
    heading = blocks.CharBlock(max_length=160, label=_("heading"))
    text = blocks.RichTextBlock(features=RICH_TEXT_FEATURES, label=_("text"))

    class Meta:
        icon = "date"
        label = _("Campaign update")
        template = "cms/blocks/campaign_update.html"


def video_embed_hosts(stream: Any) -> set[str]:
    """The player hosts a page may load after a click: for its Content-Security-Policy."""
    hosts: set[str] = set()
    for child in stream or []:
        if child.block_type == "video":
            host = video.parse(child.value["url"]).embed_host
            if host:
                hosts.add(host)
    return hosts
