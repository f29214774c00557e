from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrisisConfig(AppConfig):
    name = "crisis"
    verbose_name = _("Crisis response")

    def ready(self) -> None:
        from celery.schedules import crontab

        from crisis import figures, messages
        from crisis.audit import CrisisAction
        from union import registry

        registry.register_audit_actions(CrisisAction.choices)
        messages.register()
        figures.register_public_statistics()
        # Every minute: an unanswered alert waits at most a minute past its deadline.
        registry.register_periodic_job(
            "crisis-escalations",
            task="crisis.tasks.sweep_escalations",
            schedule=crontab(minute="*"),
        )
        registry.register_periodic_job(
            "crisis-sweep-watchdog", task="crisis.tasks.watch_sweep", schedule=crontab(minute="*")
        )
        registry.register_periodic_job(
            "crisis-court-reminders",
            task="crisis.tasks.court_reminders",
            schedule=crontab(minute=23),
        )
        registry.register_periodic_job(
            "crisis-rota-notices", task="crisis.tasks.rota_notices", schedule=crontab(minute=2)
        )
        registry.register_periodic_job(
            "crisis-daily-upkeep",
            task="crisis.tasks.daily_upkeep",
            schedule=crontab(hour=2, minute=41),
        )
