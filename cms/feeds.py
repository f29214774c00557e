"""News and statements as Atom and RSS, one feed per language (/en/feeds/news.atom...)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.http import HttpRequest
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.translation import gettext
from wagtail.models import Locale

from cms import listings
from cms.models import NewsPage

FEED_SIZE = 20


class NewsFeed(Feed):
    feed_type: type[Any] = Rss201rev2Feed

    def get_object(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Locale:
        self.request = request
        return listings.active_locale()

    def title(self, locale: Locale) -> str:
        return gettext("%(site)s: news and statements") % {"site": settings.SITE_NAME}

    def link(self, locale: Locale) -> str:
        home = listings.localized_home(locale)
        return home.get_url(self.request) if home is not None else "/"

    def description(self, locale: Locale) -> str:
        return gettext("News and statements from %(site)s.") % {"site": settings.SITE_NAME}

    def items(self, locale: Locale) -> list[NewsPage]:
        pages = listings.localized(NewsPage, locale).order_by("-date", "-first_published_at")
        return list(pages[:FEED_SIZE])

    def item_title(self, item: NewsPage) -> str:
        return item.title

    def item_description(self, item: NewsPage) -> str:
        return item.intro

    def item_link(self, item: NewsPage) -> str:
        return item.get_url(self.request) or "/"

    def item_guid(self, item: NewsPage) -> str:
        return f"urn:uuid:{item.translation_key}:{item.locale.language_code}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: NewsPage) -> datetime:
        return timezone.make_aware(datetime.combine(item.date, time(12)))

    def item_updateddate(self, item: NewsPage) -> datetime | None:
        return item.last_published_at

    def item_categories(self, item: NewsPage) -> list[str]:
        return [str(item.get_kind_display())]


class NewsAtomFeed(NewsFeed):
    feed_type = Atom1Feed
    subtitle = NewsFeed.description
