from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import translation

from union import permissions


def site(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "SITE_NAME": settings.SITE_NAME,
        "is_office_bearer": bool(user and permissions.is_office_bearer(user)),
        # Each language named in itself (settings.LANGUAGES), never in the reader's: Django's
        # get_available_languages would call English "Anglais" on a French screen.
        "LANGUAGE_CHOICES": settings.LANGUAGES,
        "interface_translated": translation.get_language() in settings.INTERFACE_LANGUAGES,
    }
