"""Append-only tables in the database itself: UPDATE and DELETE are refused by triggers.

PostgreSQL (server mode): the trigger function solidaire_append_only() (union migrations
0002 and 0009) refuses both, except an UPDATE made as the database role ROTATION_ROLE:
key rotation re-encrypts tokens in place. The application's own role must not be a
member of it (docs/deploy.md): a session setting, which any session with the
application's credentials could set, no longer lifts anything.

SQLite (the embedded default): the same refusal, by triggers that RAISE(ABORT). SQLite has
no roles: whoever can open the file can do anything with it, so the triggers only guard
against the application's own mistakes. Key rotation and `flush` lift them for the length
of one transaction (`lifted`), with a row in LIFT_TABLE that no other connection ever sees
(it is deleted before the commit).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction

ROTATION_ROLE = "solidaire_key_rotation"
LIFT_TABLE = "solidaire_append_only_lift"

# The PostgreSQL trigger function, also created by union 0009.
POSTGRESQL_FUNCTION = f"""
CREATE OR REPLACE FUNCTION solidaire_append_only() RETURNS trigger AS $$
BEGIN
  -- The one exception: rotate_field_keys re-encrypts tokens in place (same plain values),
  -- connected as (or SET ROLE to) the key-rotation role.
  IF TG_OP = 'UPDATE' AND current_user = '{ROTATION_ROLE}' THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def sqlite_lift_table_sql() -> str:
    return f"CREATE TABLE IF NOT EXISTS {LIFT_TABLE} (reason text NOT NULL)"


def sqlite_triggers_sql(table: str) -> list[str]:
    """The SQLite triggers that make `table` append-only (table names come from migrations)."""
    return [
        f"CREATE TRIGGER IF NOT EXISTS {table}_append_only_{operation.lower()} "  # noqa: S608
        f"BEFORE {operation} ON {table} "
        f"WHEN NOT EXISTS (SELECT 1 FROM {LIFT_TABLE}) "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
        for operation in ("UPDATE", "DELETE")
    ]


def sqlite_drop_triggers_sql(table: str) -> list[str]:
    return [
        f"DROP TRIGGER IF EXISTS {table}_append_only_{operation}"
        for operation in ("update", "delete")
    ]


def triggers_on(table: str) -> list[str]:
    """Names of the append-only triggers on `table` in the current database."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass "
                "AND NOT tgisinternal AND tgname LIKE %s ORDER BY tgname",
                [table, "%append_only%"],
            )
        else:
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s "
                "AND name LIKE %s ORDER BY name",
                [table, "%append_only%"],
            )
        return [row[0] for row in cursor.fetchall()]


@contextmanager
def lifted(reason: str, *, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """On SQLite, let UPDATE and DELETE through for one transaction (opened here). Only for
    key rotation and `flush`; does nothing on PostgreSQL, where only the rotation role may."""
    if connections[using].vendor != "sqlite":
        yield
        return
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(f"INSERT INTO {LIFT_TABLE} (reason) VALUES (%s)", [reason])  # noqa: S608
        yield
        cursor.execute(f"DELETE FROM {LIFT_TABLE}")  # noqa: S608


def make_append_only(schema_editor: Any, tables: list[str]) -> None:
    """For a migration: triggers that refuse UPDATE and DELETE on `tables`, on either
    database (the PostgreSQL function exists since union 0009)."""
    vendor = schema_editor.connection.vendor
    for table in tables:
        if vendor == "postgresql":
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION solidaire_append_only();"
            )
        elif vendor == "sqlite":
            for sql in sqlite_triggers_sql(table):
                schema_editor.execute(sql)


def drop_append_only(schema_editor: Any, tables: list[str]) -> None:
    vendor = schema_editor.connection.vendor
    for table in tables:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
        elif vendor == "sqlite":
            for sql in sqlite_drop_triggers_sql(table):
                schema_editor.execute(sql)
