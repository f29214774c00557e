# The public site adds Khmer and Zulu to LANGUAGES (a member may prefer them too).
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("union", "0002_append_only_triggers"),
    ]

    operations = [
        migrations.AlterField(
            model_name="member",
            name="preferred_language",
            field=models.CharField(
                choices=[
                    ("en", "English"),
                    ("fr", "Français"),
                    ("km", "ខ្មែរ"),
                    ("zu", "isiZulu"),
                ],
                default="en",
                max_length=10,
                verbose_name="preferred language",
            ),
        ),
    ]
