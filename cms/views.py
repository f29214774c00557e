"""Public views around Wagtail's page serving: the cached pages, search, and joining."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import cast

from django.conf import settings
from django.contrib.auth import logout
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django.views.static import serve as static_serve
from wagtail import views as wagtail_views
from wagtail.models import Page
from wagtail.query import PageQuerySet

from cms import cache, listings, navigation, serving

logger = logging.getLogger(__name__)

SEARCH_PAGE_SIZE = 10
SEARCH_MAX_LENGTH = 100


@cache.cached_page
def serve(request: HttpRequest, path: str) -> HttpResponse:
    return serving.serve(request, path) or wagtail_views.serve(request, path)


@cache.cached_page
def home(request: HttpRequest) -> HttpResponse:
    """The site root: the home page in the visitor's language (their choice, else their
    browser's), without a redirect, which costs a round trip on a slow connection."""
    try:
        return serving.serve(request, "") or wagtail_views.serve(request, "")
    except Http404:
        # No public site set up (a database emptied by a test's flush): the plain landing.
        return render(request, "public/home.html")


# Double quotes open a phrase the search backends cannot always close (SQLite's FTS5
# refuses the query), and PostgreSQL refuses a NUL byte in any text: neither is a word.
_NOT_SEARCHABLE = re.compile(r'["\x00-\x1f\x7f-\x9f]')


def search_terms(raw: str) -> str:
    """What a visitor typed, as plain words the search can take."""
    return " ".join(_NOT_SEARCHABLE.sub(" ", raw).split())[:SEARCH_MAX_LENGTH]


def search(request: HttpRequest) -> HttpResponse:
    """Search the pages of the current language. Queries are neither logged nor cached."""
    query = search_terms(request.GET.get("q", ""))
    results = []
    failed = False
    if query:
        locale = listings.active_locale()
        live = listings.public(Page.objects.live()).filter(locale=locale)
        pages = cast(PageQuerySet, live).specific()
        try:
            results = list(pages.search(query)[:100])
        except DatabaseError as exc:  # a query the backend's syntax still refuses
            logger.warning("search failed: %s", type(exc).__name__)  # not the query itself
            failed = True
    context = {
        "query": query,
        "failed": failed,
        "results": listings.paginate(request, results, SEARCH_PAGE_SIZE) if query else None,
        **navigation.chrome(request, None),
    }
    response = render(request, "cms/search.html", context)
    response["Cache-Control"] = "no-store"
    return response


@never_cache
def join(request: HttpRequest) -> HttpResponseRedirect:
    """From a page in some language to the application form, in that language.

    The form lives outside the language-prefixed addresses, so the language the visitor
    was reading is handed over in the language cookie (a session cookie, nothing else).
    """
    response = HttpResponseRedirect(reverse("union:join"))
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        translation.get_language(),
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
    )
    return response


def rendition(request: HttpRequest, path: str) -> HttpResponseBase:
    """Image renditions (resized, re-encoded, no camera metadata). The originals, which may
    carry the place a photo was taken, are never served."""
    response = static_serve(request, path, document_root=str(Path(settings.MEDIA_ROOT) / "images"))
    response["Cache-Control"] = "public, max-age=604800"
    return response


@csrf_exempt  # it can only sign out, which any page may ask for; sendBeacon sends no token
@never_cache
@require_http_methods(["GET", "POST"])
def quick_exit(request: HttpRequest) -> HttpResponseRedirect:
    """The quick exit of signed-in pages: end the session here, then leave for the neutral
    site. The link points here (it works without JavaScript); the script also calls it with
    navigator.sendBeacon, which is sent even though the page is left at once."""
    logout(request)
    return HttpResponseRedirect(settings.CMS_QUICK_EXIT_URL)
