"""Liveness of what the site cannot work without: the database and the Celery broker.

Meant for a load balancer or monitoring probe, so it needs no login and says nothing
beyond "ok" or "error" for each dependency: no versions, hosts or error texts.
"""

from __future__ import annotations

import logging

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from union.celery import app as celery_app

logger = logging.getLogger(__name__)

# Seconds. A probe that hangs is worse than one that says "error": the balancer
# has its own timeout and would report the wrong cause.
BROKER_TIMEOUT = 2


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    # Anything at all means "not healthy"; a health check must answer 503, never 500.
    except Exception as exc:
        logger.warning("health: database check failed (%s)", type(exc).__name__)
        return False
    return True


def _broker_ok() -> bool:
    # The redis transport ignores connect_timeout; its socket timeouts come from
    # transport options, which are merged over CELERY_BROKER_TRANSPORT_OPTIONS.
    conn = celery_app.connection_for_write(
        connect_timeout=BROKER_TIMEOUT,
        transport_options={
            "socket_connect_timeout": BROKER_TIMEOUT,
            "socket_timeout": BROKER_TIMEOUT,
        },
    )
    try:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT)
    except Exception as exc:
        # Only the class name: the message can contain the broker URL and its password.
        logger.warning("health: broker check failed (%s)", type(exc).__name__)
        return False
    finally:
        conn.release()
    return True


@require_safe
def health(request: HttpRequest) -> JsonResponse:
    checks = {
        "database": "ok" if _database_ok() else "error",
        "broker": "ok" if _broker_ok() else "error",
    }
    healthy = all(value == "ok" for value in checks.values())
    response = JsonResponse(checks, status=200 if healthy else 503)
    response["Cache-Control"] = "no-store"
    return response
