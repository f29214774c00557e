"""Lists of pages in one language, falling back to the default language.

A page that has not been translated yet is still listed in the other languages (in its own
language, marked as such) rather than silently missing: a French reader should still find
an English statement until it is translated.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

from django.conf import settings
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.core.paginator import Page as PaginatorPage
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import translation
from wagtail.models import Locale, Page, PageViewRestriction, Site
from wagtail.query import PageQuerySet

from cms import cache as page_cache
from cms.memo import per_request

P = TypeVar("P", bound=Page)


def locales() -> dict[str, Locale]:
    """Every content locale by language code (from the cache, purged when locales change)."""

    def load() -> dict[str, Locale]:
        rows = page_cache.remember(
            "locales", lambda: list(Locale.objects.values_list("pk", "language_code"))
        )
        return {code: Locale(pk=pk, language_code=code) for pk, code in rows}

    return per_request("locales", load)


def default_locale() -> Locale:
    return locales().get(settings.LANGUAGE_CODE) or Locale.get_default()


def active_locale() -> Locale:
    """The locale of the language being shown, else the default one."""
    return locales().get(translation.get_language() or "") or default_locale()


def language_codes() -> dict[int, str]:
    return {locale.pk: code for code, locale in locales().items()}


def _restricted_paths() -> list[str]:
    return list(PageViewRestriction.objects.values_list("page__path", flat=True))


def restricted_paths() -> list[str]:
    """Tree paths of the pages with a view restriction (theirs and their descendants')."""
    return page_cache.remember("restricted_paths", _restricted_paths)


def public(pages: QuerySet[P]) -> QuerySet[P]:
    """Like Wagtail's .public(), with the restrictions read from the cache (purged when a
    restriction changes)."""
    q = Q()
    for path in restricted_paths():
        q |= Q(path__startswith=path)
    return pages.exclude(q) if q else pages


def _fallback_q(model: type[Page], locale: Locale) -> Q:
    """Pages in `locale`, plus pages of the default locale with no live translation in it."""
    default = default_locale()
    if default.pk == locale.pk:
        return Q(locale=locale)
    translated = model.objects.filter(locale=locale, live=True).values("translation_key")
    return Q(locale=locale) | (Q(locale=default) & ~Q(translation_key__in=translated))


def localized(model: type[P], locale: Locale) -> QuerySet[P]:
    """Live, public pages of one type for a language, with fallbacks, newest first."""
    return (
        public(model.objects.live())
        .filter(_fallback_q(model, locale))
        .select_related("locale")
        .order_by("-first_published_at", "-pk")
    )


def children(section: Page) -> list[Page]:
    """The live, public pages under a section, in its language, with fallbacks."""
    default = default_locale()
    query = Q(pk__in=section.get_children().values("pk"))
    if default.pk != section.locale_id:
        source = Page.objects.filter(
            translation_key=section.translation_key, locale_id=default.pk
        ).first()
        if source is not None:
            translated = section.get_children().filter(live=True).values("translation_key")
            query |= Q(pk__in=source.get_children().values("pk")) & ~Q(
                translation_key__in=translated
            )
    pages = public(Page.objects.filter(query).live()).order_by("-first_published_at", "-pk")
    return mark_languages(list(cast(PageQuerySet, pages).specific()), section.locale_id)


def card(page: Page) -> dict[str, Any]:
    """What a list shows of a page, as plain data that can be cached."""
    return {
        "title": page.title,
        "url": page.get_url(),
        "intro": getattr(page, "intro", ""),
        "listing_label": str(getattr(page, "listing_label", "")),
        "listing_date": getattr(page, "listing_date", None),
        "listing_has_time": getattr(page, "listing_has_time", False),
        "listing_place": getattr(page, "listing_place", ""),
        "other_language": getattr(page, "other_language", ""),
    }


def mark_languages(pages: list[P], locale_id: int) -> list[P]:
    """Set `other_language` on the pages in another language than the list's (for their lang
    attribute and label)."""
    codes = language_codes()
    for page in pages:
        other = "" if page.locale_id == locale_id else codes[page.locale_id]
        page.other_language = other  # type: ignore[attr-defined]
    return pages


def localized_home(locale: Locale, request: HttpRequest | None = None) -> Page | None:
    """The site's home page in that language, or in the default one (once per request)."""
    return per_request(("home", locale.pk), lambda: _localized_home(locale, request))


def _localized_home(locale: Locale, request: HttpRequest | None) -> Page | None:
    from cms.serving import site_for

    site = site_for(request) if request is not None else None
    if site is None:
        site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    if site is None:
        return None
    root = site.root_page
    if root.locale_id == locale.pk:
        return root.specific
    translation = root.get_translation_or_none(locale)
    return (translation if translation is not None and translation.live else root).specific


def paginate(request: HttpRequest, items: list[Any], per_page: int) -> PaginatorPage:
    paginator = Paginator(items, per_page)
    try:
        return paginator.page(request.GET.get("page", 1))
    except PageNotAnInteger:
        return paginator.page(1)
    except EmptyPage:
        return paginator.page(paginator.num_pages)
