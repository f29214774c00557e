"""A waiver reason may describe someone's hardship: the ledger lets it be erased at the
member's request, and nothing else (union/erasable.py)."""

from django.db import migrations

from union import erasable


class Migration(migrations.Migration):
    dependencies = [("dues", "0004_second_officer_both_ways")]
    operations = [erasable.migration("dues", "LedgerEntry", "reason")]
