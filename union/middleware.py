"""Signed-in members see the site in their own language; idle sessions end."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib import auth, messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.middleware import locale
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import ngettext
from django_otp import DEVICE_ID_SESSION_KEY

SESSION_LANGUAGE_KEY = "member_language"


def remember_member_language(request: HttpRequest, language: str) -> None:
    """Keep the member's language in their session, so no request has to look it up."""
    request.session[SESSION_LANGUAGE_KEY] = language


class MemberLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        user = getattr(request, "user", None)
        if not chosen and user is not None and user.is_authenticated:
            language = request.session.get(SESSION_LANGUAGE_KEY)
            if language is None:  # once per session
                member = getattr(user, "member", None)
                language = member.preferred_language if member is not None else ""
                remember_member_language(request, language)
            if language:
                translation.activate(language)
                request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)


class LocaleMiddleware(locale.LocaleMiddleware):
    """Django's, minus one thing: a 404 from the members' and office screens stays a 404.

    Django redirects a 404 to the language-prefixed address when that address resolves,
    and Wagtail's catch-all under /en/ resolves everything, so an unknown (or another
    branch's) member would bounce to /en/office/... before its 404.
    """

    APP_PREFIXES = ("/office/", "/account/", "/dues/", "/votes/", "/join/", "/health/")

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if response.status_code == 404 and request.path_info.startswith(self.APP_PREFIXES):
            response.headers.setdefault("Content-Language", translation.get_language())
            return response
        return super().process_response(request, response)


LAST_SEEN_KEY = "last_seen"  # seconds since the epoch, of the session's latest request
# The stamp is rewritten at most this often: a session save on every page would cost a
# database write each time, for a precision nobody needs.
LAST_SEEN_STEP = 60  # seconds


def idle_limit(request: HttpRequest) -> int:
    """Minutes a session may go unused. Shorter once past the second factor: such a session
    opens other members' records."""
    if DEVICE_ID_SESSION_KEY in request.session:
        return int(settings.SESSION_IDLE_MINUTES_OFFICE)
    return int(settings.SESSION_IDLE_MINUTES)


class SessionGuardMiddleware:
    """Sessions on shared phones: one left unused too long is ended (the next request goes
    to the sign-in page, saying why), and signed-in pages are never stored by the browser,
    so that Back after signing out or a quick exit shows nothing of them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        signed_in = auth.SESSION_KEY in request.session
        now = int(time.time())
        if signed_in:
            last_seen = request.session.get(LAST_SEEN_KEY)
            minutes = idle_limit(request)
            if last_seen is not None and now - int(last_seen) > minutes * 60:
                auth.logout(request)
                messages.info(
                    request,
                    ngettext(
                        "You were signed out after %(minutes)d minute without activity.",
                        "You were signed out after %(minutes)d minutes without activity.",
                        minutes,
                    )
                    % {"minutes": minutes},
                )
                return redirect_to_login(request.get_full_path())
        response = self.get_response(request)
        if auth.SESSION_KEY in request.session:
            last_seen = request.session.get(LAST_SEEN_KEY)
            if last_seen is None or now - int(last_seen) >= LAST_SEEN_STEP:
                request.session[LAST_SEEN_KEY] = now
            patch_cache_control(response, no_store=True, private=True)
        return response


class SecurityHeadersMiddleware:
    """The headers Django's SecurityMiddleware does not send: which browser features pages
    may use (none of the sensitive ones: camera, microphone, location...), and that no
    other site may load our responses (pages, images, files) into its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response
