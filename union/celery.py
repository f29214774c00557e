"""The Celery app. Configured from Django settings (CELERY_*); tasks take ids only."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "union.settings")

app = Celery("solidaire")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "sweep-notifications": {
        "task": "union.tasks.sweep_notifications",
        "schedule": crontab(minute="*/5"),
    },
    "vote-clock": {
        "task": "votes.tasks.run_vote_clock",
        "schedule": crontab(minute="*"),
    },
    # Hourly, because each branch's 1st of the month starts at its own midnight.
    "dues-monthly-run": {"task": "dues.tasks.run_monthly_dues", "schedule": crontab(minute=7)},
    "dues-reconcile-stripe": {
        "task": "dues.tasks.reconcile_stripe",
        "schedule": crontab(hour=3, minute=17),
    },
}
