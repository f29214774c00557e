"""Members already suspended, resigned or dead lose their login, as a status change now
makes them (union.services.accounts.match_login_to_status)."""

from django.db import migrations

ENDING = ["suspended", "resigned", "deceased"]


def forwards(apps, schema_editor):
    Member = apps.get_model("union", "Member")
    User = apps.get_model("auth", "User")
    ended = Member.objects.filter(status__in=ENDING, user__isnull=False).values("user_id")
    User.objects.filter(pk__in=ended).update(is_active=False)


class Migration(migrations.Migration):
    dependencies = [("union", "0010_member_pending_phone"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
