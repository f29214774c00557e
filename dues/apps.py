from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DuesConfig(AppConfig):
    name = "dues"
    verbose_name = _("Dues")

    def ready(self) -> None:
        from celery.schedules import crontab

        from dues import messages, selectors
        from dues.audit import DuesAction
        from union import registry

        registry.register_audit_actions(DuesAction.choices)
        messages.register()
        # Who may vote, and whatever else asks the core who is in good standing.
        registry.register_standing_rule(selectors.members_in_good_standing)
        # Hourly, because each branch's 1st of the month starts at its own midnight.
        registry.register_periodic_job(
            "dues-monthly-run", task="dues.tasks.run_monthly_dues", schedule=crontab(minute=7)
        )
        registry.register_periodic_job(
            "dues-retry-stripe-events",
            task="dues.tasks.retry_stuck_stripe_events",
            schedule=crontab(minute="*"),
        )
        registry.register_periodic_job(
            "dues-reconcile-stripe",
            task="dues.tasks.reconcile_stripe",
            schedule=crontab(hour=3, minute=17),
        )
