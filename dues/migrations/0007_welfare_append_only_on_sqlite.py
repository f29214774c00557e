"""On SQLite (the embedded default) the welfare ledgers are append-only too, like on
PostgreSQL (0004); see union/append_only.py and 0003."""

from django.db import migrations

from union import append_only

TABLES = [
    "dues_fundrule",
    "dues_decision",
    "dues_conflictofinterest",
    "dues_applicationdocument",
    "dues_transferapproval",
    "dues_fundentry",
]


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
    dependencies = [("dues", "0006_merge_0004_welfare_triggers_0005_erasable_reasons")]
    operations = [migrations.RunPython(forwards, backwards)]
