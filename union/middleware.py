"""Show signed-in members the site in their own language, unless they chose another for now."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation


class MemberLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        user = getattr(request, "user", None)
        if not chosen and user is not None and user.is_authenticated:
            member = getattr(user, "member", None)
            if member is not None and member.preferred_language:
                translation.activate(member.preferred_language)
                request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
