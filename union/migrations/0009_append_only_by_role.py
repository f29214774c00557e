"""Append-only tables, hardened (see union/append_only.py).

PostgreSQL: the trigger function no longer lets a session setting (solidaire.rewrap_keys)
through, which any session with the application's credentials could set; only an UPDATE
made as the key-rotation role passes. SQLite: the same tables get triggers too.
"""

from importlib import import_module

from django.db import migrations

from union import append_only

TABLES = ["union_auditevent", "union_memberstatuschange"]

# What 0002 created, put back when going backwards.
SESSION_SETTING_FUNCTION = import_module("union.migrations.0002_append_only_triggers").FUNCTION


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(append_only.POSTGRESQL_FUNCTION, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(append_only.sqlite_lift_table_sql())
        for table in TABLES:
            for sql in append_only.sqlite_triggers_sql(table):
                schema_editor.execute(sql)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(SESSION_SETTING_FUNCTION, params=None)
    elif vendor == "sqlite":
        for table in TABLES:
            for sql in append_only.sqlite_drop_triggers_sql(table):
                schema_editor.execute(sql)
        schema_editor.execute(f"DROP TABLE IF EXISTS {append_only.LIFT_TABLE}")


class Migration(migrations.Migration):
    dependencies = [("union", "0008_votes_move_to_their_app")]
    operations = [migrations.RunPython(forwards, backwards)]
