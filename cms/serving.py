"""Serving a page without walking the tree every time.

Wagtail finds a page by walking down from the site's root, one query (or two) per level,
then reads the view restrictions of every ancestor: about eight queries before the page
itself does anything. Here, while no page type has routes of its own, the address is the
page's url_path under the site's root in the visitor's language (one query), looked up
once per publish (the cache generation); the page is then fetched once per publish and
process. Whatever this shortcut cannot vouch for goes the ordinary way: a page under a
view restriction, a page with routes of its own, a hook some other app registered,
anything not a GET.
"""

from __future__ import annotations

import copy
from functools import cache as once
from typing import Any

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from wagtail import hooks
from wagtail.models import Page, Site, get_page_models

from cms import cache as page_cache

DEFAULT_HOOKS_MODULE = "wagtail.wagtail_hooks"


@once
def _only_wagtails_own_hooks() -> bool:
    """The shortcut replaces Wagtail's view-restriction check, and nothing else."""
    around = hooks.get_hooks("on_serve_page")
    before = hooks.get_hooks("before_serve_page")
    return all(fn.__module__ == DEFAULT_HOOKS_MODULE for fn in [*around, *before])


def site_for(request: HttpRequest) -> Site | None:
    """Site.find_for_request, remembered per host until the next publish or site change."""
    if not hasattr(request, "_wagtail_site"):
        host = request.get_host()
        request._wagtail_site = page_cache.remember(  # type: ignore[attr-defined]
            f"site:{host}", lambda: Site.find_for_request(request)
        )
    return request._wagtail_site  # type: ignore[attr-defined]


def _restricted(page: Page) -> bool:
    from cms.listings import restricted_paths

    return any(page.path.startswith(path) for path in restricted_paths())


def _find(request: HttpRequest, path: str) -> Page | None:
    site = site_for(request)
    if site is None:
        return None
    key = f"route:{site.pk}:{translation.get_language()}:{path}"
    entry = page_cache.remember(key, lambda: _route(request, path))
    if not entry:
        return None
    pk, label = entry
    # The live page itself, kept in this process until the next publish (its query costs
    # more than the rest of the lookup); each request works on its own copy.
    live = page_cache.remember(
        f"page:{pk}",
        lambda: apps.get_model(label).objects.filter(pk=pk, live=True).first(),
        shared=False,
    )
    if live is None:
        return None
    page = copy.copy(live)
    request._wagtail_route_for_request = (page, [], {})  # type: ignore[attr-defined]
    return page


@once
def _routes_by_address() -> bool:
    """True while every page type finds its subpages as Wagtail's Page does (by slug, with
    no routes of its own): then a page's address is its url_path below the root."""
    return all(model.route is Page.route for model in get_page_models())


def _route_by_address(site: Site, path: str) -> tuple[int, str] | str:
    """What Page.route_for_request finds, in two queries instead of two per level."""
    from cms.listings import active_locale

    # The site's root page in the visitor's language when that translation is live, else
    # the root itself (as Page.localized).
    root_key = Page.objects.filter(pk=site.root_page_id).values("translation_key")
    roots = Page.objects.filter(
        Q(pk=site.root_page_id)
        | Q(translation_key__in=root_key, locale_id=active_locale().pk, live=True)
    ).values_list("pk", "url_path", "path")
    candidates = sorted(roots, key=lambda row: row[0] == site.root_page_id)
    if not candidates:
        return ""
    _pk, root_url_path, root_tree_path = candidates[0]
    address = root_url_path + "".join(f"{part}/" for part in path.split("/") if part)
    found = (
        Page.objects.filter(url_path=address, path__startswith=root_tree_path, live=True)
        .values_list("pk", "content_type_id")
        .first()
    )
    if found is None:
        return ""
    model = ContentType.objects.get_for_id(found[1]).model_class()
    return (found[0], model._meta.label_lower) if model is not None else ""


def _route(request: HttpRequest, path: str) -> tuple[int, str] | str:
    """(page id, model) for a plain route, "" for anything else (not cached as a page)."""
    site = site_for(request)
    if site is not None and _routes_by_address():
        return _route_by_address(site, path)
    route = Page.route_for_request(request, path)
    if route is None:
        return ""
    page, args, kwargs = route
    if args or kwargs:
        return ""
    return (page.pk, page.specific_class._meta.label_lower)


def serve(request: HttpRequest, path: str) -> HttpResponse | None:
    """The page's response, or None when the ordinary way must be taken."""
    if request.method not in ("GET", "HEAD") or not _only_wagtails_own_hooks():
        return None
    page = _find(request, path)
    if page is None or _restricted(page):
        return None
    for fn in hooks.get_hooks("before_serve_page"):
        result: Any = fn(page, request, [], {})
        if isinstance(result, HttpResponse):
            return result
    return page.serve(request)
