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
    if schema_editor.connection.vendor == "sqlite":
        # Also made by union 0009; not a dependency, so that union can migrate on its own.
        schema_editor.execute(append_only.sqlite_lift_table_sql())
    _each_table(schema_editor, append_only.sqlite_triggers_sql)


def backwards(apps, schema_editor):
    _each_table(schema_editor, append_only.sqlite_drop_triggers_sql)


class Migration(migrations.Migration):
    dependencies = [("dues", "0002_append_only_triggers")]
    operations = [migrations.RunPython(forwards, backwards)]
