from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VotesConfig(AppConfig):
    name = "votes"
    verbose_name = _("Votes")

    def ready(self) -> None:
        from celery.schedules import crontab

        from union import registry
        from votes import messages
        from votes.audit import VoteAction

        registry.register_audit_actions(VoteAction.choices)
        messages.register()
        # Opens and closes votes on time, and re-queues counts that a worker lost.
        registry.register_periodic_job(
            "vote-clock", task="votes.tasks.run_vote_clock", schedule=crontab(minute="*")
        )
