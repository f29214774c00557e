"""Background jobs of the union core. Arguments are ids only: the broker is not encrypted."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import import_module

from celery import shared_task
from django.conf import settings

from union import lockouts
from union.notifications import services as notifications
from union.notifications.sms import SmsError


@shared_task(
    acks_late=True,
    autoretry_for=(SmsError, OSError),
    retry_backoff=30,
    retry_backoff_max=1800,
    max_retries=notifications.MAX_ATTEMPTS,
    time_limit=60,
    soft_time_limit=45,
)
def send_notification(notification_id: int) -> bool:
    return notifications.deliver(notification_id)


def queue_notifications(ids: Iterable[int]) -> None:
    """A send_notification task for each id: each message retries on its own."""
    for pk in ids:
        send_notification.delay(pk)


@shared_task(time_limit=120, soft_time_limit=100)
def sweep_notifications() -> int:
    """Re-queue what was never sent (a worker died, the broker lost a message), and ask the
    provider about sends whose outcome was lost (a resend could double them)."""
    ids = notifications.due_for_resend()
    queue_notifications(ids)
    settled = [pk for pk in notifications.due_for_reconcile() if notifications.reconcile(pk)]
    return len(ids) + len(settled)


@shared_task(time_limit=120, soft_time_limit=100)
def forget_old_login_attempts() -> int:
    """Failed logins are kept only for their cool-off; no access log is kept at all."""
    return lockouts.forget_old_attempts()


@shared_task(time_limit=300, soft_time_limit=280)
def clear_expired_sessions() -> None:
    """Expired sessions are gone from the database too (each names a member's login)."""
    import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700)
def run_import_job(job_id: int) -> str:
    """Check or import a register in the background (union.imports.jobs); safe to repeat."""
    from union.imports import jobs

    return jobs.run_step(job_id)


@shared_task(time_limit=120, soft_time_limit=100)
def sweep_import_jobs() -> int:
    """Every minute: queue again the import steps whose task or worker was lost."""
    from union.imports import jobs

    return jobs.sweep_stale()


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700)
def run_export_job(job_id: int) -> str:
    """Make a large register export in the background (union.imports.export_jobs)."""
    from union.imports import export_jobs

    return export_jobs.run(job_id)


@shared_task(time_limit=120, soft_time_limit=100)
def sweep_export_jobs() -> int:
    """Every minute: make again the exports whose worker was lost; forget old files."""
    from union.imports import export_jobs

    return export_jobs.sweep_stale()
