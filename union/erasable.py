"""Append-only tables that hold a free-text column about a member (a status reason, a
waiver reason) let exactly one change through: erasing that text at the member's request
(union.services.erasure). Everything else stays refused, as union 0002 made it.

PostgreSQL: the table's append-only trigger becomes two, one refusing DELETE and one
refusing UPDATE unless the update only blanks that column (every other column unchanged,
compared as JSON so that a column added later is covered too).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations


def postgresql_sql(table: str, column: str) -> list[str]:
    only_blanks = (
        f"OLD.{column} <> '' AND NEW.{column} = '' "
        f"AND (to_jsonb(NEW) - '{column}') = (to_jsonb(OLD) - '{column}')"
    )
    return [
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"CREATE TRIGGER {table}_append_only BEFORE DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION solidaire_append_only()",
        f"CREATE TRIGGER {table}_append_only_update BEFORE UPDATE ON {table} "
        f"FOR EACH ROW WHEN (NOT ({only_blanks})) EXECUTE FUNCTION solidaire_append_only()",
    ]


def postgresql_undo_sql(table: str) -> list[str]:
    """Back to union 0002's single trigger."""
    return [
        f"DROP TRIGGER IF EXISTS {table}_append_only_update ON {table}",
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION solidaire_append_only()",
    ]


def migration(table: str, column: str) -> migrations.RunPython:
    """The migration operation that makes `column` of `table` erasable (and back)."""

    def forwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for sql in postgresql_sql(table, column):
                schema_editor.execute(sql)

    def backwards(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            for sql in postgresql_undo_sql(table):
                schema_editor.execute(sql)

    return migrations.RunPython(forwards, backwards)
