"""Request helpers that every app's views share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.http import url_has_allowed_host_and_scheme

if TYPE_CHECKING:
    from django.http import HttpRequest


def safe_next(request: HttpRequest, default: str) -> str:
    """The `next` address (POSTed or in the query) if it stays on this site, else `default`.

    A crafted link must not bounce a signed-in officer to another site: other hosts,
    scheme-relative (//host) and backslash addresses and javascript: are refused, and
    over HTTPS so is a plain-HTTP address, even to our own host.
    """
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default
