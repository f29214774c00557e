"""Background jobs for dues. Arguments are ids and month strings only: the broker is not
encrypted. Every job is safe to run twice."""

from __future__ import annotations

import logging

import stripe
from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from dues import money
from dues.models import DuesPlan
from dues.services import card, runs
from union.models import Branch

log = logging.getLogger(__name__)


@shared_task(
    acks_late=True,
    autoretry_for=(stripe.APIConnectionError, stripe.RateLimitError, OperationalError),
    retry_backoff=30,
    retry_backoff_max=1800,
    max_retries=8,
    time_limit=60,
    soft_time_limit=45,
)
def process_stripe_event(event_id: int) -> str:
    """Book one stored Stripe event (a no-op if it was booked before); a payment is booked
    together with the other payments waiting (card.book_event)."""
    return card.book_event(event_id)


@shared_task(time_limit=120, soft_time_limit=100)
def retry_stuck_stripe_events() -> int:
    """Every minute: queue again the bookings whose task was lost."""
    ids = card.stuck_events()
    for pk in ids:
        process_stripe_event.delay(pk)
    return len(ids)


@shared_task(acks_late=True, time_limit=1800, soft_time_limit=1700)
def charge_branch(branch_id: int, period: str) -> int:
    """Charge one branch for one month, then settle advance payments and lapse members
    behind beyond the grace months."""
    branch = Branch.objects.get(pk=branch_id)
    result = runs.charge_period(period=money.parse_period(period), branch=branch)
    runs.settle_credit(branch=branch)
    lapsed = runs.lapse_members_in_arrears(branch=branch)
    log.info("dues run %s %s: %d charged, %d lapsed", branch.code, period, result.charged, lapsed)
    return result.charged


@shared_task(acks_late=True, time_limit=600, soft_time_limit=550)
def send_dues_reminders(branch_id: int) -> int:
    return runs.queue_reminders(branch=Branch.objects.get(pk=branch_id))


@shared_task(time_limit=120, soft_time_limit=100)
def run_monthly_dues() -> list[int]:
    """Hourly. Charges each branch on the 1st of the month in the branch's own time zone,
    and once a day after that (local midnight) to catch up: a missed run, members who
    joined since. Charging is idempotent, so running again costs only the check.
    Reminders go out once, on reminder day at a daytime hour."""
    queued = []
    for plan in DuesPlan.objects.select_related("branch"):
        branch = plan.branch
        now = money.local_now(branch.time_zone)
        if now.day == 1 or now.hour == 0:
            charge_branch.delay(branch.pk, f"{now:%Y-%m}")
            queued.append(branch.pk)
        if now.day == settings.DUES_REMINDER_DAY and now.hour == settings.DUES_REMINDER_HOUR:
            send_dues_reminders.delay(branch.pk)
    return queued


@shared_task(time_limit=900, soft_time_limit=850)
def reconcile_stripe() -> int:
    """Daily: book card payments whose webhook never arrived."""
    return card.reconcile().booked


@shared_task(time_limit=1800, soft_time_limit=1700)
def reconcile_welfare_payouts() -> int:
    """Daily: each branch's welfare payouts of yesterday against its cash book and the
    mobile-money statement, and earlier days still open. Safe to run twice."""
    from dues.welfare.services import reconciliation

    return reconciliation.reconcile_recent()
