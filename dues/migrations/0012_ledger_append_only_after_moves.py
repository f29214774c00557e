"""SQLite rebuilds a table to change a constraint or add a column, and its triggers go with
it: 0011 (member moves) rebuilt the dues ledger, so its append-only triggers are made again.
PostgreSQL alters the table in place and keeps its trigger: nothing to do there."""

from django.db import migrations

from union import append_only

TABLES = ["dues_ledgerentry"]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        append_only.make_append_only(schema_editor, TABLES)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        append_only.drop_append_only(schema_editor, TABLES)


class Migration(migrations.Migration):
    dependencies = [("dues", "0011_member_moves")]
    operations = [migrations.RunPython(forwards, backwards)]
