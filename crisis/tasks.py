"""Background jobs of crisis response. No arguments, or ids only: the broker is not
encrypted. Every job is safe to run twice, or twice at once."""

from __future__ import annotations

from celery import shared_task

from crisis.services import cases, dispatch, notices, retention, upkeep


@shared_task(acks_late=True, time_limit=55, soft_time_limit=50)
def sweep_escalations() -> int:
    """Every minute: fire the due escalation deadlines (claimed once each)."""
    return dispatch.sweep_escalations()


@shared_task(time_limit=55, soft_time_limit=50)
def watch_sweep() -> bool:
    """Every minute: alert the operators when the sweep has not run for 3 minutes."""
    return upkeep.check_sweep_heartbeat()


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700)
def daily_upkeep() -> int:
    """Daily: free reply codes held 30 days past closing; erase the free text of call-outs
    past their branch's retention period."""
    released = upkeep.release_reply_codes()
    return released + retention.erase_expired()


@shared_task(acks_late=True, time_limit=300, soft_time_limit=280)
def court_reminders() -> int:
    """Hourly: remind the member and the paralegal of tomorrow's hearings, once each."""
    return cases.send_court_reminders()


@shared_task(acks_late=True, time_limit=300, soft_time_limit=280)
def rota_notices() -> int:
    """Hourly: the daily coverage check to coordinators (09:00 local) and the shift
    reminders (18:00 local, the evening before)."""
    return notices.send_rota_notices()
