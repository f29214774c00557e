"""A call-out's timeline cannot be edited or deleted: on PostgreSQL by the append-only
trigger function of union (0002, hardened in 0009), on SQLite by the same triggers as the
core's tables (union/append_only.py)."""

from django.db import migrations

from union import append_only

TABLES = ["crisis_calloutstep"]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION solidaire_append_only();"
            )
    elif vendor == "sqlite":
        # Also made by union 0009; not a dependency, so that union can migrate on its own.
        schema_editor.execute(append_only.sqlite_lift_table_sql())
        for table in TABLES:
            for sql in append_only.sqlite_triggers_sql(table):
                schema_editor.execute(sql)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
        elif vendor == "sqlite":
            for sql in append_only.sqlite_drop_triggers_sql(table):
                schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("crisis", "0001_initial"), ("union", "0002_append_only_triggers")]
    operations = [migrations.RunPython(forwards, backwards)]
