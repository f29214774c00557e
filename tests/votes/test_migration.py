"""Votes moving out of the union app (union 0008, votes 0001 and 0002) keep every row.

A database from before the move holds a vote with its option, roll, voted mark and
ballot, written through the models as they were then; after migrating, the votes app's
models read the same rows from its own tables, and the content types (with their
permissions) belong to the votes app under the same ids.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from votes.models import Ballot, Vote, VoteMark, VoteOption, VoteRoll

# Also on the embedded default: `make run` upgrades an existing SQLite database in place.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.embedded]

BEFORE_THE_MOVE = ("union", "0007_audit_action_registry")
VOTE_MODELS = ["vote", "voteoption", "voteroll", "votemark", "ballot", "tallyentry", "branchtally"]


def _migrate(targets: list[tuple[str, str | None]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()  # what is applied now
    return executor


def _latest() -> list[tuple[str, str | None]]:
    return MigrationExecutor(connection).loader.graph.leaf_nodes()


def _before_the_move(latest: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """Every other app at its newest migration that needs no union migration after the move
    (dues' member moves need union's), union just before the move."""
    graph = MigrationExecutor(connection).loader.graph
    allowed = set(graph.forwards_plan(BEFORE_THE_MOVE))
    before: list[tuple[str, str | None]] = [BEFORE_THE_MOVE]
    for app, name in latest:
        if app in ("union", "votes"):
            continue
        node: tuple[str, str] | None = (app, str(name))
        while node is not None and any(
            dep[0] in ("union", "votes") and dep not in allowed for dep in graph.forwards_plan(node)
        ):
            parents = [p.key for p in graph.node_map[node].parents if p.key[0] == app]
            node = max(parents) if parents else None
        before.append(node or (app, None))
    return before


def test_votes_ballots_marks_and_content_types_survive_the_move(bamako, member):
    latest = _latest()
    try:
        # Every other app as it is now (or as late as union before the move allows), union
        # just before the move, no votes app.
        before = _before_the_move(latest)
        old = _migrate([*before, ("votes", None)]).loader.project_state(before)
        tables = connection.introspection.table_names()
        assert "union_vote" in tables and Vote._meta.db_table not in tables

        # As it was: the content types belonged to the union app (votes 0001 moved them back).
        OldContentType = old.apps.get_model("contenttypes", "ContentType")
        assert not OldContentType.objects.filter(app_label="votes", model__in=VOTE_MODELS)
        type_ids = {
            model: OldContentType.objects.get_or_create(app_label="union", model=model)[0].pk
            for model in VOTE_MODELS
        }
        OldPermission = old.apps.get_model("auth", "Permission")
        OldPermission.objects.get_or_create(
            content_type_id=type_ids["vote"], codename="add_vote", defaults={"name": "Can add"}
        )

        OldVote = old.apps.get_model("union", "Vote")
        now = timezone.now()
        vote = OldVote.objects.create(
            kind="single",
            title="Before the move",
            branch_id=bamako.pk,
            opens_at=now - timedelta(days=1),
            closes_at=now + timedelta(days=1),
            status="open",
            eligible_count=1,
            returning_officer_id=member.pk,
        )
        option = old.apps.get_model("union", "VoteOption").objects.create(
            vote=vote, number=1, label="Awa", statement="Bamako."
        )
        roll = old.apps.get_model("union", "VoteRoll").objects.create(
            vote=vote, member_id=member.pk
        )
        mark = old.apps.get_model("union", "VoteMark").objects.create(
            vote=vote, member_id=member.pk, channel="online", branch_id=bamako.pk
        )
        ballot = old.apps.get_model("union", "Ballot").objects.create(
            vote=vote, choices=[1], receipt_hash="a" * 64
        )

        _migrate(latest)

        tables = connection.introspection.table_names()
        assert Vote._meta.db_table in tables and "union_vote" not in tables
        moved = Vote.objects.get(pk=vote.pk)
        assert (moved.public_id, moved.title, moved.status) == (
            vote.public_id,
            "Before the move",
            "open",
        )
        assert list(VoteOption.objects.filter(vote=moved).values_list("pk", "label")) == [
            (option.pk, "Awa")
        ]
        assert list(VoteRoll.objects.filter(vote=moved).values_list("pk", "member_id")) == [
            (roll.pk, member.pk)
        ]
        assert list(VoteMark.objects.filter(vote=moved).values_list("pk", "member_id")) == [
            (mark.pk, member.pk)
        ]
        assert list(Ballot.objects.filter(vote=moved).values_list("pk", "choices")) == [
            (ballot.pk, [1])
        ]

        ContentType.objects.clear_cache()
        for model, pk in type_ids.items():
            assert ContentType.objects.get(pk=pk).app_label == "votes", model
        assert not ContentType.objects.filter(app_label="union", model__in=VOTE_MODELS).exists()
        assert Permission.objects.filter(content_type_id=type_ids["vote"], codename="add_vote")
    finally:
        _migrate(latest)  # the other tests need the latest schema
        ContentType.objects.clear_cache()
