"""sitemap.xml: every live, public page in every language, with its translations as
hreflang alternates. Wagtail's own sitemap only walks the default language's tree."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib.sitemaps import Sitemap
from django.http import HttpRequest
from wagtail.models import Locale, Page, Site


class PagesSitemap(Sitemap):
    def __init__(self, request: HttpRequest) -> None:
        self.request = request

    def items(self) -> list[Page]:
        site = Site.find_for_request(self.request)
        if site is None:
            return []
        roots = [site.root_page, *site.root_page.get_translations().live()]
        query = Page.objects.none()
        for root in roots:
            query |= Page.objects.descendant_of(root, inclusive=True)
        pages = list(query.live().public().defer_streamfields().order_by("path").specific())
        # Group translations once, rather than asking each page for its own.
        self._translations: dict[Any, list[Page]] = defaultdict(list)
        for page in pages:
            self._translations[page.translation_key].append(page)
        return pages

    def location(self, page: Page) -> str:
        return page.get_url(self.request) or "/"

    def lastmod(self, page: Page) -> Any:
        return page.last_published_at or page.latest_revision_created_at

    def get_urls(self, page: int | str = 1, site: Any = None, protocol: str | None = None) -> Any:
        protocol = protocol or self.request.scheme
        domain = self.request.get_host()
        codes = dict(Locale.objects.values_list("pk", "language_code"))
        urls = []
        for item in self.paginator.page(page).object_list:
            urls.append(
                {
                    "item": item,
                    "location": f"{protocol}://{domain}{self.location(item)}",
                    "lastmod": self.lastmod(item),
                    "changefreq": None,
                    "priority": None,
                    "alternates": [
                        {
                            "lang_code": codes[other.locale_id],
                            "location": f"{protocol}://{domain}{self.location(other)}",
                        }
                        for other in self._translations.get(item.translation_key, [])
                    ]
                    if len(self._translations.get(item.translation_key, [])) > 1
                    else [],
                }
            )
        return urls
