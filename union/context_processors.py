from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from union import permissions


def site(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    return {
        "SITE_NAME": settings.SITE_NAME,
        "is_office_bearer": bool(user and permissions.is_office_bearer(user)),
    }
