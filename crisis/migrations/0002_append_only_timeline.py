"""On PostgreSQL a call-out's timeline cannot be edited or deleted, not even by hand in
psql: it reuses the append-only trigger function of union 0002."""

from django.db import migrations

TABLES = ["crisis_calloutstep"]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION solidaire_append_only();"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")


class Migration(migrations.Migration):
    dependencies = [("crisis", "0001_initial"), ("union", "0002_append_only_triggers")]
    operations = [migrations.RunPython(forwards, backwards)]
