"""Show signed-in members the site in their own language, unless they chose another for now."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.middleware import locale
from django.utils import translation

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
