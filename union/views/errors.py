"""Error pages. The one that matters here: the database is away (restarting, failing over,
pgbouncer out of server connections) and the site says so with a 503, not a 500.

handler500 runs while the exception is being handled, whichever layer raised it (a view,
a middleware reading the session or the user), so sys.exc_info() tells what went wrong.
The 503 page is built without the request: its context processors would ask the very
database that is away. What the request was doing was inside a transaction and is rolled
back: nothing is half-written, and the page says so.
"""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views import defaults

log = logging.getLogger(__name__)

DATABASE_AWAY = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30


def server_error(request: HttpRequest) -> HttpResponse:
    exc = sys.exc_info()[1]
    if isinstance(exc, DATABASE_AWAY):
        return database_unavailable(request)
    return defaults.server_error(request)  # type: ignore[no-any-return]


def database_unavailable(request: HttpRequest) -> HttpResponse:
    log.warning("database unavailable: answered 503")
    html = render_to_string("503.html", {"SITE_NAME": settings.SITE_NAME})
    response = HttpResponse(html, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response
