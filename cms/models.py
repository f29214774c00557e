"""The public site's page types.

One tree per language (Wagtail's own i18n): /en/..., /fr/..., each page a translation of
the English one through its translation_key. Pages that are not translated yet are still
listed in the other languages, marked with their language (see listings.py).

Editors create and edit; nothing is published without a second editor's approval
(cms.workflows). Pages are cached for anonymous visitors and purged on publish (cms.cache).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from wagtail import blocks as wagtail_blocks
from wagtail.admin.panels import FieldPanel, HelpPanel, MultiFieldPanel
from wagtail.fields import RichTextField, StreamField
from wagtail.models import Locale, Page
from wagtail.search import index

from cms import cache, listings, navigation
from cms.blocks import (
    RICH_TEXT_FEATURES,
    BaseStreamBlock,
    CallToActionBlock,
    CampaignUpdateBlock,
    JoinBlock,
    video_embed_hosts,
)

LISTING_PAGE_SIZE = 12


class BasePage(Page):
    """What every public page has: a plain-language summary and a picture for sharing."""

    intro = models.TextField(
        _("summary"),
        blank=True,
        max_length=400,
        help_text=_("One or two plain sentences, shown in lists, search results and shares."),
    )
    social_image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("image for sharing"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    promote_panels = [*Page.promote_panels, FieldPanel("social_image")]
    search_fields = [*Page.search_fields, index.SearchField("intro")]

    # StreamFields whose videos may be played on this page (for its Content-Security-Policy).
    stream_fields: tuple[str, ...] = ("body",)
    # For lists: set here so that templates never look up a missing attribute (which costs
    # Django a dir() of the whole page object).
    other_language = ""
    listing_has_time = False
    listing_place = ""

    class Meta:
        abstract = True

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        context.update(navigation.chrome(request, self))
        context["canonical_url"] = request.build_absolute_uri(self.get_url(request) or "/")
        language = listings.language_codes().get(self.locale_id, "")
        context["page_language"] = language
        context["page_direction"] = "rtl" if language in settings.LANGUAGES_BIDI else "ltr"
        # Template fragments ({% cache %}) are keyed by it: a publish retires them all.
        context["cms_generation"] = cache.generation()
        return context

    def serve(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().serve(request, *args, **kwargs)
        hosts: set[str] = set()
        for name in self.stream_fields:
            hosts |= video_embed_hosts(getattr(self, name, None))
        if hosts:
            # Only the players of the videos on this page, and only as frames.
            response._csp_update = {"frame-src": sorted(f"https://{h}" for h in hosts)}  # type: ignore[attr-defined]
        return response

    @property
    def listing_date(self) -> Any:
        return self.first_published_at

    @property
    def listing_label(self) -> str:
        return str(capfirst(self._meta.verbose_name))

    @property
    def share_image(self) -> Any:
        """The picture shown when the page is shared (Open Graph)."""
        return (
            self.social_image or getattr(self, "hero_image", None) or getattr(self, "cover", None)
        )


def body_field() -> StreamField:
    return StreamField(BaseStreamBlock(), blank=True, verbose_name=_("body"))


# What a home page or a section may hold (the join page sits once, under the home page).
CONTENT_PAGE_TYPES = [
    "cms.SectionPage",
    "cms.CampaignPage",
    "cms.NewsPage",
    "cms.PublicationPage",
    "cms.GuidePage",
    "cms.EventPage",
    "cms.StandardPage",
]


class HomePage(BasePage):
    hero_image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("main image"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    body = body_field()

    content_panels = [
        *Page.content_panels,
        FieldPanel("intro"),
        FieldPanel("hero_image"),
        FieldPanel("body"),
    ]
    search_fields = [*BasePage.search_fields, index.SearchField("body")]

    parent_page_types = ["wagtailcore.Page"]
    subpage_types = [*CONTENT_PAGE_TYPES, "cms.JoinPage"]

    class Meta:
        verbose_name = _("home page")

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        key = f"home:{self.pk}:{translation.get_language()}"
        context.update(cache.remember(key, self._lists))
        return context

    def _lists(self) -> dict[str, list[dict[str, Any]]]:
        code = listings.language_codes()[self.locale_id]
        locale = listings.locales().get(code) or Locale.objects.get(pk=self.locale_id)
        campaigns = listings.localized(CampaignPage, locale).filter(
            status=CampaignPage.Status.ONGOING
        )[:3]
        news = listings.localized(NewsPage, locale).order_by("-date", "-pk")[:3]
        events = (
            listings.localized(EventPage, locale)
            .filter(start__gte=timezone.now())
            .order_by("start")[:3]
        )
        return {
            name: [listings.card(page) for page in listings.mark_languages(list(pages), locale.pk)]
            for name, pages in (("campaigns", campaigns), ("news", news), ("events", events))
        }


class SectionPage(BasePage):
    """A section of the site (campaigns, news, events...) listing the pages under it."""

    body = body_field()

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]
    search_fields = [*BasePage.search_fields, index.SearchField("body")]

    parent_page_types = ["cms.HomePage", "cms.SectionPage"]
    subpage_types = CONTENT_PAGE_TYPES

    class Meta:
        verbose_name = _("section")

    def get_context(self, request: HttpRequest, *args: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context(request, *args, **kwargs)
        key = f"section:{self.pk}:{translation.get_language()}"
        upcoming, others = cache.remember(key, self._lists)
        context["upcoming"] = upcoming
        context["listing"] = listings.paginate(request, others, LISTING_PAGE_SIZE)
        return context

    def _lists(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """Events still to come first, then everything else, newest first."""
        now = timezone.now()
        upcoming: list[dict[str, Any]] = []
        others: list[dict[str, Any]] = []
        for page in listings.children(self):
            coming = isinstance(page, EventPage) and page.start >= now
            (upcoming if coming else others).append(listings.card(page))
        upcoming.sort(key=lambda item: item["listing_date"])
        return upcoming, others


class CampaignPage(BasePage):
    class Status(models.TextChoices):
        ONGOING = "ongoing", _("Ongoing")
        WON = "won", _("Won")
        ENDED = "ended", _("Ended")

    aim = models.TextField(
        _("aim"), help_text=_("What the campaign wants to change, in a sentence.")
    )
    status = models.CharField(
        _("status"), max_length=8, choices=Status.choices, default=Status.ONGOING
    )
    hero_image = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("main image"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    demands = StreamField(
        [("demand", wagtail_blocks.TextBlock(label=_("demand")))],
        blank=True,
        verbose_name=_("demands"),
    )
    calls_to_action = StreamField(
        [("call_to_action", CallToActionBlock()), ("join", JoinBlock())],
        blank=True,
        verbose_name=_("what you can do"),
    )
    body = body_field()
    updates = StreamField(
        [("update", CampaignUpdateBlock())],
        blank=True,
        verbose_name=_("updates"),
        help_text=_("Newest first."),
    )

    content_panels = [
        *Page.content_panels,
        FieldPanel("intro"),
        FieldPanel("aim"),
        FieldPanel("status"),
        FieldPanel("hero_image"),
        FieldPanel("demands"),
        FieldPanel("calls_to_action"),
        FieldPanel("body"),
        FieldPanel("updates"),
    ]
    search_fields = [
        *BasePage.search_fields,
        index.SearchField("aim"),
        index.SearchField("demands"),
        index.SearchField("body"),
        index.SearchField("updates"),
        index.FilterField("status"),
    ]
    stream_fields = ("body",)

    parent_page_types = ["cms.HomePage", "cms.SectionPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("campaign")

    @property
    def listing_label(self) -> str:
        return f"{capfirst(self._meta.verbose_name)} · {self.get_status_display()}"


class NewsPage(BasePage):
    class Kind(models.TextChoices):
        NEWS = "news", _("News")
        STATEMENT = "statement", _("Statement")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.NEWS)
    date = models.DateField(_("date"), default=timezone.localdate)
    body = body_field()

    content_panels = [
        *Page.content_panels,
        FieldPanel("kind"),
        FieldPanel("date"),
        FieldPanel("intro"),
        FieldPanel("body"),
    ]
    search_fields = [
        *BasePage.search_fields,
        index.SearchField("body"),
        index.FilterField("kind"),
        index.FilterField("date"),
    ]

    parent_page_types = ["cms.HomePage", "cms.SectionPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("news or statement")
        verbose_name_plural = _("news and statements")

    @property
    def listing_date(self) -> Any:
        return self.date

    @property
    def listing_label(self) -> str:
        return str(self.get_kind_display())


class PublicationPage(BasePage):
    """A report, a leaflet, a submission: a document with a summary for those who cannot
    download it."""

    date = models.DateField(_("date of publication"), default=timezone.localdate)
    document = models.ForeignKey(
        "wagtaildocs.Document",
        verbose_name=_("document"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    cover = models.ForeignKey(
        "wagtailimages.Image",
        verbose_name=_("cover"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    summary = RichTextField(_("summary of the document"), features=RICH_TEXT_FEATURES)
    body = body_field()

    content_panels = [
        *Page.content_panels,
        FieldPanel("date"),
        FieldPanel("intro"),
        FieldPanel("document"),
        FieldPanel("cover"),
        FieldPanel("summary"),
        FieldPanel("body"),
    ]
    search_fields = [
        *BasePage.search_fields,
        index.SearchField("summary"),
        index.SearchField("body"),
    ]

    parent_page_types = ["cms.HomePage", "cms.SectionPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("publication")

    @property
    def listing_date(self) -> Any:
        return self.date


class GuidePage(BasePage):
    """Know your rights: what the law says and what to do, in plain words."""

    applies_to = models.CharField(
        _("where this applies"),
        max_length=120,
        blank=True,
        help_text=_("A country, a province or a town."),
    )
    last_reviewed = models.DateField(_("last checked"), default=timezone.localdate)
    body = body_field()

    content_panels = [
        *Page.content_panels,
        FieldPanel("intro"),
        MultiFieldPanel([FieldPanel("applies_to"), FieldPanel("last_reviewed")], _("Validity")),
        HelpPanel(
            content=_(
                "Have a lawyer or a paralegal check the guide, and update the date when they do."
            )
        ),
        FieldPanel("body"),
    ]
    search_fields = [*BasePage.search_fields, index.SearchField("body")]

    parent_page_types = ["cms.HomePage", "cms.SectionPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("know-your-rights guide")


class EventPage(BasePage):
    start = models.DateTimeField(_("starts"))
    end = models.DateTimeField(_("ends"), null=True, blank=True)
    place = models.CharField(
        _("place"),
        max_length=200,
        blank=True,
        help_text=_(
            "Only a public place. For closed meetings, say how to find out (ask your branch)."
        ),
    )
    body = body_field()

    content_panels = [
        *Page.content_panels,
        MultiFieldPanel([FieldPanel("start"), FieldPanel("end"), FieldPanel("place")], _("When")),
        FieldPanel("intro"),
        FieldPanel("body"),
    ]
    search_fields = [
        *BasePage.search_fields,
        index.SearchField("place"),
        index.SearchField("body"),
        index.FilterField("start"),
    ]

    parent_page_types = ["cms.HomePage", "cms.SectionPage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("event")

    listing_has_time = True

    @property
    def listing_date(self) -> Any:
        return self.start

    @property
    def listing_place(self) -> str:  # type: ignore[override]
        return self.place

    @property
    def is_past(self) -> bool:
        return (self.end or self.start) < timezone.now()


class StandardPage(BasePage):
    body = body_field()

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]
    search_fields = [*BasePage.search_fields, index.SearchField("body")]

    parent_page_types = ["cms.HomePage", "cms.SectionPage", "cms.StandardPage"]
    subpage_types = ["cms.StandardPage"]

    class Meta:
        verbose_name = _("plain page")


class JoinPage(BasePage):
    """Why and how to join, leading to the member application form."""

    body = body_field()

    content_panels = [*Page.content_panels, FieldPanel("intro"), FieldPanel("body")]
    search_fields = [*BasePage.search_fields, index.SearchField("body")]

    parent_page_types = ["cms.HomePage"]
    subpage_types: list[str] = []

    class Meta:
        verbose_name = _("joining page")


# The workflow task is a model too; importing it here registers it with the app.
from cms.workflows import SecondEditorApprovalTask  # noqa: E402, F401
