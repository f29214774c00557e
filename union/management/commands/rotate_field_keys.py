"""Re-encrypt every encrypted field under the first key of FIELD_ENCRYPTION_KEYS.

Rotation: generate a key, put it FIRST in FIELD_ENCRYPTION_KEYS (keep the old ones after
it), restart, run this command; then the old keys can be removed from the list.
Works in batches, each in its own transaction, so it can be stopped and run again.
Files that apps store encrypted (welfare documents) are re-encrypted too, one at a time,
by the rotators the apps registered (union.registry.register_file_rotator).

On PostgreSQL the append-only tables accept the re-encryption only from the key-rotation
role (union.append_only.ROTATION_ROLE): run this command connected as that role, or as a
login that may SET ROLE to it, never with the application's own credentials
(docs/deploy.md, "Rotating keys").
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from union import append_only, crypto, registry
from union.crypto import EncryptedTextField

BATCH = 1000


class Command(BaseCommand):
    help = "Re-encrypt sensitive fields under the newest FIELD_ENCRYPTION_KEYS key."

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor == "postgresql":
            self._check_rotation_role()
        total = 0
        for model in apps.get_models():
            fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            count = self._rotate_model(model, [str(f.column) for f in fields])
            total += count
            self.stdout.write(f"{model._meta.label}: {count} rows re-encrypted")
        files = 0
        for name, rotator in registry.file_rotators():
            count = rotator(self._rewriting)
            files += count
            self.stdout.write(f"{name}: {count} files re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"Done: {total} rows, {files} files."))

    @contextmanager
    def _rewriting(self) -> Iterator[Any]:
        """A cursor in a transaction that may rewrite append-only rows (as the batches do)."""
        with (
            transaction.atomic(),
            append_only.lifted("rotate_field_keys"),
            connection.cursor() as cursor,
        ):
            self._become_rotation_role(cursor)
            yield cursor  # on an error the rollback undoes the role too
            self._stop_being_rotation_role(cursor)

    def _rotate_model(self, model: Any, columns: list[str]) -> int:
        """Works on the raw stored tokens, so no value is ever decrypted into Python objects
        beyond what MultiFernet.rotate needs, and models' save() logic is not involved."""
        table = connection.ops.quote_name(model._meta.db_table)
        pk = connection.ops.quote_name(model._meta.pk.column)
        cols = ", ".join(connection.ops.quote_name(c) for c in columns)
        last = None
        done = 0
        while True:
            with (
                transaction.atomic(),
                append_only.lifted("rotate_field_keys"),
                connection.cursor() as cursor,
            ):
                self._become_rotation_role(cursor)
                where = f"WHERE {pk} > %s " if last is not None else ""
                cursor.execute(
                    f"SELECT {pk}, {cols} FROM {table} {where}ORDER BY {pk} LIMIT %s",  # noqa: S608
                    [last, BATCH] if last is not None else [BATCH],
                )
                rows = cursor.fetchall()
                if not rows:
                    self._stop_being_rotation_role(cursor)
                    return done
                sets = ", ".join(f"{connection.ops.quote_name(c)} = %s" for c in columns)
                for row in rows:
                    values = [crypto.rotate(v) if v else v for v in row[1:]]
                    cursor.execute(
                        f"UPDATE {table} SET {sets} WHERE {pk} = %s",  # noqa: S608
                        [*values, row[0]],
                    )
                self._stop_being_rotation_role(cursor)
                last = rows[-1][0]
                done += len(rows)

    def _check_rotation_role(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_has_role(current_user, oid, 'MEMBER') FROM pg_roles WHERE rolname = %s",
                [append_only.ROTATION_ROLE],
            )
            row = cursor.fetchone()
        if row is None or not row[0]:
            raise CommandError(
                f"Run this command as the database role {append_only.ROTATION_ROLE} (or a login "
                "allowed to SET ROLE to it): the append-only tables refuse anyone else. "
                "See docs/deploy.md, 'Rotating keys'."
            )

    def _become_rotation_role(self, cursor: Any) -> None:
        """The append-only triggers let this re-encryption (same values) through for the
        key-rotation role only. SET LOCAL: it ends with the batch's transaction."""
        if connection.vendor == "postgresql":
            cursor.execute(f"SET LOCAL ROLE {append_only.ROTATION_ROLE}")

    def _stop_being_rotation_role(self, cursor: Any) -> None:
        # Within an outer transaction (a test's), SET LOCAL would outlast the batch.
        if connection.vendor == "postgresql":
            cursor.execute("RESET ROLE")
