from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VotesConfig(AppConfig):
    name = "votes"
    verbose_name = _("Votes")

    def ready(self) -> None:
        from celery.schedules import crontab
        from django.db.backends.signals import connection_created

        from union import registry
        from union.permissions import Perm
        from votes import messages, selectors
        from votes.audit import VoteAction

        connection_created.connect(_zero_what_sqlite_deletes, dispatch_uid="votes-secure-delete")
        registry.register_audit_actions(VoteAction.choices)
        messages.register()
        registry.register_office_queue(
            "votes.tallies",
            label=_("Paper tallies to count a second time"),
            count=selectors.tallies_to_count,
            url_name="votes:office_list",
            perm=Perm.RUN_ASSEMBLY,
        )
        # Opens and closes votes on time, and re-queues counts that a worker lost.
        registry.register_periodic_job(
            "vote-clock", task="votes.tasks.run_vote_clock", schedule=crontab(minute="*")
        )


def _zero_what_sqlite_deletes(sender: object, connection: Any, **kwargs: Any) -> None:
    """The embedded SQLite default keeps deleted rows in its file's free pages until they
    are reused; secure_delete overwrites them with zeros as they are freed (a sealed ballot
    deleted at the count, a legacy ballot rewritten by the seal). See docs/ballot-secrecy.md
    for what still cannot hold there."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA secure_delete=ON")
