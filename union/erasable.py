"""Append-only tables that hold a free-text column about a member (a status reason, a
waiver reason) let exactly one change through: erasing that text at the member's request
(union.services.erasure). Everything else stays refused, as union.append_only makes it.

PostgreSQL: the table's append-only trigger becomes two, one refusing DELETE and one
refusing UPDATE unless the update only blanks that column (every other column unchanged,
compared as JSON so that a column added later is covered too).

SQLite: the UPDATE trigger (union.append_only) gets the same exception; SQLite has no
row-to-JSON, so "every other column unchanged" names the table's columns as the migration
sees them.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

from union import append_only


def _only_blanks_postgresql(column: str) -> str:
    return (
        f"OLD.{column} <> '' AND NEW.{column} = '' "
        f"AND (to_jsonb(NEW) - '{column}') = (to_jsonb(OLD) - '{column}')"
    )


def _only_blanks_sqlite(column: str, others: list[str]) -> str:
    same = " AND ".join(f'OLD."{c}" IS NEW."{c}"' for c in others)
    return f"OLD.{column} <> '' AND NEW.{column} = '' AND {same}"


def postgresql_sql(table: str, column: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"CREATE TRIGGER {table}_append_only BEFORE DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION solidaire_append_only()",
        f"CREATE TRIGGER {table}_append_only_update BEFORE UPDATE ON {table} "
        f"FOR EACH ROW WHEN (NOT ({_only_blanks_postgresql(column)})) "
        "EXECUTE FUNCTION solidaire_append_only()",
    ]


def postgresql_undo_sql(table: str) -> list[str]:
    """Back to the single trigger of union 0002 and dues 0002."""
    return [
        f"DROP TRIGGER IF EXISTS {table}_append_only_update ON {table}",
        f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}",
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION solidaire_append_only()",
    ]


def sqlite_sql(table: str, column: str, others: list[str]) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_append_only_update",
        f"CREATE TRIGGER {table}_append_only_update BEFORE UPDATE ON {table} "  # noqa: S608 - names from migrations
        f"WHEN NOT EXISTS (SELECT 1 FROM {append_only.LIFT_TABLE}) "
        f"AND NOT ({_only_blanks_sqlite(column, others)}) "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
    ]


def sqlite_undo_sql(table: str) -> list[str]:
    update = [sql for sql in append_only.sqlite_triggers_sql(table) if " UPDATE ON " in sql]
    return [f"DROP TRIGGER IF EXISTS {table}_append_only_update", *update]


def migration(app_label: str, model_name: str, column: str) -> migrations.RunPython:
    """The migration operation that makes `column` of the model's table erasable (and back)."""

    def forwards(apps: Any, schema_editor: Any) -> None:
        meta = apps.get_model(app_label, model_name)._meta
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            statements = postgresql_sql(meta.db_table, column)
        elif vendor == "sqlite":
            others = [f.column for f in meta.concrete_fields if f.column != column]
            statements = sqlite_sql(meta.db_table, column, others)
        else:
            return
        for sql in statements:
            schema_editor.execute(sql)

    def backwards(apps: Any, schema_editor: Any) -> None:
        table = apps.get_model(app_label, model_name)._meta.db_table
        vendor = schema_editor.connection.vendor
        if vendor == "postgresql":
            statements = postgresql_undo_sql(table)
        elif vendor == "sqlite":
            statements = sqlite_undo_sql(table)
        else:
            return
        for sql in statements:
            schema_editor.execute(sql)

    return migrations.RunPython(forwards, backwards)
