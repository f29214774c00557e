"""Login lockouts (django-axes), keeping only what a lockout needs, for as long as it needs it.

Who signed in, when, from which address and with which phone would be a list of the
union's members: no access log is written (settings.AXES_DISABLE_ACCESS_LOG). A failed
attempt keeps the account name, the address and a count; the browser, the page and the
form contents, which axes would also store, are dropped. Failures older than the cool-off
no longer count and are deleted (forget_old_attempts, a periodic job).
"""

from __future__ import annotations

from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.utils import timezone


class MinimalRecordsHandler(AxesDatabaseHandler):
    """Axes's database handler, storing nothing lockouts (account, address) do not use."""

    def user_login_failed(
        self, sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
    ) -> None:
        if request is not None:
            AxesProxyHandler.update_request(request)
            request.axes_user_agent = ""
            request.axes_http_accept = ""
            request.axes_path_info = ""
        super().user_login_failed(sender, credentials, request, **kwargs)


def drop_request_details(sender: Any, instance: AccessAttempt, **kwargs: Any) -> None:
    """pre_save of AccessAttempt: the query string and the (masked) form are not kept."""
    instance.get_data = ""
    instance.post_data = ""


def forget_old_attempts() -> int:
    """Delete failed attempts whose cool-off is over, and every access or failure log row
    (none is written any more; older rows may remain from before). Returns rows deleted."""
    cool_off = get_cool_off()
    attempts = 0
    if cool_off is not None:  # without a cool-off a lockout lasts until an admin lifts it
        attempts, _ = AccessAttempt.objects.filter(
            attempt_time__lt=timezone.now() - cool_off
        ).delete()
    logs, _ = AccessLog.objects.all().delete()
    failures, _ = AccessFailureLog.objects.all().delete()
    return attempts + logs + failures
