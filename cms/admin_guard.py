"""The gate in front of every Wagtail admin view (/cms-admin/).

- Signing in happens at the union's login (WAGTAILADMIN_LOGIN_URL), then the second factor:
  a signed-in user who has not passed it is sent to it first, whatever their roles.
- Group membership is re-derived from union roles on every admin request (cms.editors), so
  an ended role or a suspension takes effect immediately.
- The admin gets its own Content-Security-Policy. Its scripts are, like the public site's,
  'self' only: no inline script runs. Wagtail 8 still writes a few (the choosers, the date
  pickers, inline panels); cms/admin_scripts.py and the templates in
  cms/templates/wagtailadmin/ leave markers instead, which static/cms/admin.js starts
  (tests/browser/test_cms_admin_csp.py: the editor loads and saves with no violation).
  Inline styles stay allowed: Wagtail sets style attributes throughout (the focal point,
  the sidebar, the rich-text editor), and the Observatory does not score 'unsafe-inline'
  in style-src down. Previews are shown in a same-origin frame. Nothing is loaded from
  any other site.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from cms import quick_exit
from cms.editors import sync_editor

ADMIN_CSP = {
    # The quick exit's script, by its hash, so that a preview runs like the public page.
    "script-src": ["'self'", quick_exit.CSP_SOURCE],
    "style-src": ["'self'", "'unsafe-inline'"],
    "img-src": ["'self'", "data:", "blob:"],
    "frame-src": ["'self'"],
    "frame-ancestors": ["'self'"],
}


def second_factor_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            if not user.is_verified():  # type: ignore[union-attr,attr-defined]  # django-otp adds it
                query = urlencode({"next": request.get_full_path()})
                return redirect(f"{reverse('union:two_factor')}?{query}")
            sync_editor(user)  # type: ignore[arg-type]
        response = view(request, *args, **kwargs)
        # Previews are rendered through the whole middleware stack once more (Wagtail makes a
        # request of its own), which already set the public site's headers: replace them.
        if "Content-Security-Policy" in response:
            del response["Content-Security-Policy"]
        response._csp_replace = ADMIN_CSP  # type: ignore[attr-defined]
        # Previews are shown in a same-origin frame inside the editor.
        response["X-Frame-Options"] = "SAMEORIGIN"
        response.setdefault("Cache-Control", "no-store")
        return response

    return wrapped
