"""The Celery app. Configured from Django settings (CELERY_*); tasks take ids only."""

from __future__ import annotations

import os

from celery import Celery
from celery.beat import PersistentScheduler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "union.settings")

app = Celery("solidaire")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


class RegistryScheduler(PersistentScheduler):
    """Beat's schedule is what the apps registered (union.registry.register_periodic_job),
    read when beat starts, when every app's ready() has run."""

    def setup_schedule(self) -> None:
        from union import registry

        self.app.conf.beat_schedule = registry.beat_schedule()
        super().setup_schedule()
