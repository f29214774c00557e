"""Votes leave the union app for their own (votes/). Only the migration state changes here:
the tables stay as they are, and votes 0001 takes them over (then renames them in 0002).
Dependent models first, the vote last, as the state's relations require.
"""

from django.db import migrations

VOTE_MODELS = ["Ballot", "BranchTally", "TallyEntry", "VoteMark", "VoteOption", "VoteRoll", "Vote"]


class Migration(migrations.Migration):
    dependencies = [("union", "0007_audit_action_registry")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name=name) for name in VOTE_MODELS],
            database_operations=[],
        ),
    ]
