"""The public pages' cache: whole responses for anonymous visitors, purged on publish.

Keys carry a *generation* number; purging bumps it, which retires every cached page at
once (one cache write, the same on a file cache or Redis, and correct for the home page,
the lists and the menus that show a page published elsewhere). Old entries expire by
themselves.

Only requests without a session or message cookie are served from the cache: a signed-in
member sees their own header, and nothing personal is ever stored.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import translation

GENERATION_KEY = "cms:generation"
HEADER = "X-Solidaire-Cache"

# A query string other than a page number is not cached: it would let anyone fill the cache.
_CACHEABLE_QUERY = re.compile(r"^(page=\d{1,4})?$")
_KEPT_HEADERS = ("Content-Type", "Content-Language", "Link")


def _seconds() -> int:
    return int(getattr(settings, "CMS_CACHE_SECONDS", 600))


# Each process reads the generation at most once a second: a cache hit then costs one
# cache read, not two. Another process's publish reaches this one within that second.
GENERATION_SECONDS = 1.0
_seen: dict[str, float] = {"value": 0, "at": -GENERATION_SECONDS}


def generation() -> int:
    now = time.monotonic()
    if now - _seen["at"] < GENERATION_SECONDS and _seen["value"]:
        return int(_seen["value"])
    value = cache.get(GENERATION_KEY)
    if value is None:
        # Never go back to a generation this process has already used (a cleared cache).
        cache.add(GENERATION_KEY, max(_seen["value"], 1), None)
        value = cache.get(GENERATION_KEY) or max(_seen["value"], 1)
    _seen.update(value=int(value), at=now)
    return int(value)


def purge() -> None:
    """Retire every cached public page (called on publish, unpublish, move, delete)."""
    try:
        value = cache.incr(GENERATION_KEY)
    except ValueError:
        value = int(max(_seen["value"], 1)) + 1
        cache.set(GENERATION_KEY, value, None)
    _seen.update(value=int(value), at=time.monotonic())


DATA_SECONDS = 600  # lists hold upcoming events: recomputed at least this often


# The same values, kept in this process too (at most LOCAL_SECONDS), so that a page built
# again in the same process does not even ask the shared cache.
LOCAL_SECONDS = 60.0
LOCAL_MAX = 1024
_local: OrderedDict[str, tuple[float, Any]] = OrderedDict()
_local_lock = threading.Lock()


def remember(
    key: str, compute: Callable[[], Any], seconds: int = DATA_SECONDS, *, shared: bool = True
) -> Any:
    """What pages are built from (menus, lists, translations), computed once per publish.

    Shared by every page and every process; a publish changes the generation, so nothing
    here outlives the content it came from. Keep values small: plain data, or a model
    instance with nothing loaded beyond its own row. With shared=False the value is kept in
    this process only (for what is cheaper to query again than to pickle, such as a page
    with its StreamFields); callers must not change what they get back.
    """
    full_key = f"cms:data:{generation()}:{key}"
    now = time.monotonic()
    with _local_lock:
        held = _local.get(full_key)
        if held is not None and held[0] > now:
            _local.move_to_end(full_key)
            return held[1]
    value = cache.get(full_key) if shared else None
    if value is None:
        value = compute()
        if shared:
            cache.set(full_key, value, seconds)
    if value is not None:
        with _local_lock:
            _local[full_key] = (now + min(LOCAL_SECONDS, seconds), value)
            while len(_local) > LOCAL_MAX:
                _local.popitem(last=False)
    return value


def forget_local() -> None:
    """Drop what this process holds (tests empty the shared cache between them)."""
    with _local_lock:
        _local.clear()
    _seen.update(at=-GENERATION_SECONDS)


def _key(request: HttpRequest) -> str | None:
    if request.method not in ("GET", "HEAD") or _seconds() <= 0:
        return None
    cookies = request.COOKIES
    if settings.SESSION_COOKIE_NAME in cookies or "messages" in cookies:
        return None
    query = request.META.get("QUERY_STRING", "")
    if not _CACHEABLE_QUERY.match(query):
        return None
    language = translation.get_language() or settings.LANGUAGE_CODE
    return f"cms:page:{generation()}:{request.get_host()}:{language}:{request.path}?{query}"


def _cacheable(request: HttpRequest, response: HttpResponse) -> bool:
    session = getattr(request, "session", None)
    return (
        response.status_code == 200
        # A page that holds a CSRF token or changed the session is this visitor's own.
        and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")
        and not (session is not None and session.modified)
        and not response.streaming
        and not response.cookies
        and "private" not in response.get("Cache-Control", "")
        and "no-store" not in response.get("Cache-Control", "")
        and response.get("Content-Type", "").startswith("text/html")
    )


def cached_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Serve the view from the cache for anonymous visitors, and fill the cache on a miss."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        key = _key(request)
        if key is not None:
            entry = cache.get(key)
            if entry is not None:
                content, headers, csp_update = entry
                response = HttpResponse(content)
                for name, value in headers.items():
                    response[name] = value
                if csp_update:
                    response._csp_update = csp_update  # type: ignore[attr-defined]
                response[HEADER] = "hit"
                return response
        response = view(request, *args, **kwargs)
        render = getattr(response, "render", None)
        if callable(render):
            response = render()
        if key is not None and _cacheable(request, response):
            headers = {name: response[name] for name in _KEPT_HEADERS if name in response}
            csp_update = getattr(response, "_csp_update", None)
            cache.set(key, (response.content, headers, csp_update), _seconds())
            response[HEADER] = "miss"
        return response

    return wrapped
