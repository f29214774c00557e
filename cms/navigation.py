"""What every public page shows around its content: the languages it exists in, the
sections menu, the way home. Computed once per page render (and then cached with it)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest
from django.utils import translation
from wagtail.coreutils import get_content_languages
from wagtail.models import Locale, Page

from cms import cache as page_cache
from cms import listings
from cms.serving import site_for


@dataclass(frozen=True)
class LanguageLink:
    code: str
    name: str
    url: str
    current: bool
    translated: bool  # False: the link goes to that language's home page instead


def languages(request: HttpRequest | None, page: Page | None) -> list[LanguageLink]:
    """One link per content language: to this page's live translation when there is one,
    else to that language's home page (Wagtail serves the default one if there is none)."""
    key = f"languages:{page.translation_key if page else '-'}:{translation.get_language()}"
    return page_cache.remember(key, lambda: _languages(request, page))


def _languages(request: HttpRequest | None, page: Page | None) -> list[LanguageLink]:
    codes = listings.language_codes()
    translations: dict[str, Page] = {}
    if page is not None:
        others = Page.objects.filter(translation_key=page.translation_key, live=True).only(
            "pk", "url_path", "locale_id", "translation_key", "depth", "path"
        )
        for other in others:
            translations[codes[other.locale_id]] = other
    current = translation.get_language()
    links = []
    for code, name in get_content_languages().items():
        target = translations.get(code)
        url = target.get_url(request) if target is not None else f"/{code}/"
        if url:
            links.append(
                LanguageLink(
                    code=code,
                    name=name,
                    url=url,
                    current=code == current,
                    translated=target is not None,
                )
            )
    return links


@dataclass(frozen=True)
class MenuItem:
    title: str
    url: str
    path: str  # tree path, to mark the section a page is in


def _site_navigation(request: HttpRequest | None, locale: Locale) -> dict[str, Any]:
    """The way home and the menu for one language. Cached until the next publish (the
    cache generation changes), since every uncached page needs them."""
    site = site_for(request) if request is not None else None
    key = f"cms:nav:{page_cache.generation()}:{site.pk if site else 0}:{locale.pk}"
    navigation = cache.get(key)
    if navigation is None:
        home = listings.localized_home(locale, request)
        items: list[MenuItem] = []
        if home is not None:
            children = listings.public(home.get_children().live().in_menu())
            for child in children.only("pk", "title", "url_path", "path", "depth"):
                items.append(
                    MenuItem(title=child.title, url=child.get_url(request) or "", path=child.path)
                )
        home_url = (home.get_url(request) if home is not None else None) or "/"
        navigation = {"home_url": home_url, "menu": items}
        cache.set(key, navigation, 24 * 3600)
    return navigation


def menu(items: list[MenuItem], page: Page | None) -> list[dict[str, str]]:
    """The menu, with aria-current: "page" for the page itself, "true" for its section."""
    marked = []
    for item in items:
        current = ""
        if page is not None and item.path == page.path:
            current = "page"
        elif page is not None and page.path.startswith(item.path):
            current = "true"
        marked.append({"title": item.title, "url": item.url, "current": current})
    return marked


def chrome(request: HttpRequest | None, page: Page | None) -> dict[str, Any]:
    navigation = _site_navigation(request, listings.active_locale())
    return {
        "languages": languages(request, page),
        "menu": menu(navigation["menu"], page),
        "home_url": navigation["home_url"],
    }
