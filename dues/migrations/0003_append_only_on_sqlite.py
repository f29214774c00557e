"""On SQLite (the embedded default) the ledger tables are append-only too, like on
PostgreSQL (0002); see union/append_only.py."""

from django.db import migrations

from union import append_only

TABLES = ["dues_ledgerentry", "dues_allocation", "dues_paymentconfirmation", "dues_cashbookclose"]


def _each_table(schema_editor, statements):
    if schema_editor.connection.vendor != "sqlite":
        return
    for table in TABLES:
        for sql in statements(table):
            schema_editor.execute(sql)


def forwards(apps, schema_editor):
    _each_table(schema_editor, append_only.sqlite_triggers_sql)


def backwards(apps, schema_editor):
    _each_table(schema_editor, append_only.sqlite_drop_triggers_sql)


class Migration(migrations.Migration):
    dependencies = [("dues", "0002_append_only_triggers"), ("union", "0009_append_only_by_role")]
    operations = [migrations.RunPython(forwards, backwards)]
