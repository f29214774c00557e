"""The language in the address wins on the public site."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation


class AddressLanguageMiddleware:
    """/en/... is English, even for a signed-in member who prefers French.

    Goes after union.middleware.MemberLanguageMiddleware, which switches signed-in members
    to their own language: on an address with a language prefix that would make the URL
    resolver look for /fr/... (a 404), or show the page in the wrong language.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = translation.get_language_from_path(request.path_info)
        if language and language != translation.get_language():
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)
