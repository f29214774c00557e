"""Django's `flush`, able to empty the append-only tables on SQLite too.

On PostgreSQL flush uses TRUNCATE, which row triggers do not see; on SQLite it deletes row
by row, which the append-only triggers refuse (union/append_only.py). Emptying the whole
database is an operator's act (and what a test database is reset with), so it lifts them
for its one transaction.
"""

from __future__ import annotations

from typing import Any

from django.core.management.commands import flush
from django.db import connections

from union import append_only


class Command(flush.Command):
    def handle(self, **options: Any) -> None:
        connection = connections[options["database"]]
        if connection.vendor != "sqlite":
            super().handle(**options)
            return
        if options["interactive"]:
            # Asked before the transaction opens: it would hold the database's write lock.
            answer = input(
                f"This will IRREVERSIBLY DESTROY all data in {connection.settings_dict['NAME']}.\n"
                "Type 'yes' to continue, or 'no' to cancel: "
            )
            if answer != "yes":
                self.stdout.write("Flush cancelled.")
                return
        with append_only.lifted("flush", using=options["database"]):
            super().handle(**{**options, "interactive": False})
