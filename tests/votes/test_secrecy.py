"""The ballot tables hold nothing that could identify a voter, and are in no audit trail.

Votes opened before ballots were sealed stored them as cast: the seal at count time
rewrites them in random order (the last tests). tests/votes/test_stored_links.py attacks
sealed votes from backups.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from tests.factories import MemberFactory
from tests.votes.conftest import opened_before_sealing
from union.models import AuditEvent
from votes.models import Ballot, SealedBallot, Vote, VoteKind, VoteMark
from votes.services import casting, counting

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

BALLOTS = Ballot._meta.db_table
SEALED = SealedBallot._meta.db_table
MARKS = VoteMark._meta.db_table


@pytest.mark.vendor("postgresql")  # information_schema
def test_ballot_table_has_only_the_vote_the_choices_and_the_receipt_hash():
    with connection.cursor() as cursor:
        columns = {
            c.name: c.type_code
            for c in connection.introspection.get_table_description(cursor, BALLOTS)
        }
        relations = connection.introspection.get_relations(cursor, BALLOTS)
    assert set(columns) == {"id", "vote_id", "choices", "receipt_hash"}
    # The only link out is to the vote, never to a member, user, session or mark.
    assert {target for _column, (_field, target) in relations.items()} == {Vote._meta.db_table}
    field = Ballot._meta.get_field("id")
    assert field.get_internal_type() == "UUIDField"  # random, not a sequence
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_default FROM information_schema.columns WHERE table_name = %s",
            [BALLOTS],
        )
        assert all(default is None for (default,) in cursor.fetchall())  # no sequence, no now()


@pytest.mark.vendor("postgresql")  # information_schema
def test_sealed_ballot_table_has_only_the_vote_the_sealed_bytes_and_the_lookup():
    with connection.cursor() as cursor:
        columns = {c.name for c in connection.introspection.get_table_description(cursor, SEALED)}
        relations = connection.introspection.get_relations(cursor, SEALED)
        cursor.execute(
            "SELECT column_default FROM information_schema.columns WHERE table_name = %s",
            [SEALED],
        )
        defaults = [default for (default,) in cursor.fetchall()]
    assert columns == {"id", "vote_id", "sealed", "lookup"}
    assert {target for _column, (_field, target) in relations.items()} == {Vote._meta.db_table}
    assert all(default is None for default in defaults)  # no sequence, no now()


def test_no_other_table_refers_to_ballots():
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            relations = connection.introspection.get_relations(cursor, table)
            targets = {target for _c, (_f, target) in relations.items()}
            assert BALLOTS not in targets and SEALED not in targets, table


def test_every_sealed_ballot_of_a_vote_has_the_same_length(make_vote, bamako):
    # Otherwise the length would tell how many candidates each voter ranked.
    voters = MemberFactory.create_batch(4, branch=bamako)
    vote = make_vote(VoteKind.APPROVAL, options=["Awa", "Fanta", "Mariam", "Rokia"])
    for voter, choices in zip(voters, [[], [2], [1, 3], [1, 2, 3, 4]], strict=True):
        casting.cast_ballot(vote=vote, member=voter, choices=choices)
    lengths = {len(bytes(s)) for s in SealedBallot.objects.values_list("sealed", flat=True)}
    assert len(lengths) == 1
    assert not Ballot.objects.exists()


def test_casting_writes_no_audit_row_and_officers_see_who_not_how(make_vote, member):
    vote = make_vote()
    before = AuditEvent.objects.count()
    casting.cast_ballot(vote=vote, member=member, choices=[2])
    assert AuditEvent.objects.count() == before
    mark = vote.marks.get()
    assert mark.member == member
    assert not hasattr(mark, "ballot")


def _transaction_ids(table: str, vote) -> list[str]:
    """The id of the transaction that wrote each row (PostgreSQL's hidden xmin column)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT xmin::text FROM {table} WHERE vote_id = %s", [vote.pk])  # noqa: S608
        return sorted(xid for (xid,) in cursor.fetchall())


@pytest.mark.vendor("postgresql")  # xmin; on SQLite, see the rowid test below
@pytest.mark.django_db(transaction=True)
def test_seal_rewrites_ballots_so_xmin_no_longer_matches_the_marks(make_vote, member, secretary):
    vote = opened_before_sealing(make_vote())
    assert not connection.in_atomic_block  # each cast commits on its own, as in production
    casting.cast_ballot(vote=vote, member=member, choices=[1])
    casting.cast_ballot(vote=vote, member=secretary, choices=[2])
    marks = _transaction_ids(MARKS, vote)
    # Before the seal, anyone who can read the tables pairs each ballot with its voter.
    assert len(set(marks)) == 2
    assert _transaction_ids(BALLOTS, vote) == marks

    with transaction.atomic():  # the count's own transaction, as count_vote runs it
        counting.seal_ballots(vote)

    ballots = _transaction_ids(BALLOTS, vote)
    assert len(ballots) == 2 and len(set(ballots)) == 1  # every ballot, all from the seal
    assert not set(ballots) & set(marks)


def _physical_order(vote) -> list[str]:
    """Ballot ids in the order the database stores them (what a dump would show)."""
    hidden = "ctid" if connection.vendor == "postgresql" else "rowid"
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {BALLOTS} WHERE vote_id = %s ORDER BY {hidden}",  # noqa: S608
            [vote.pk],
        )
        return [str(row[0]).replace("-", "") for row in cursor.fetchall()]


def _ballots(vote) -> set[tuple[str, tuple[int, ...], str]]:
    rows = Ballot.objects.filter(vote=vote).values_list("id", "choices", "receipt_hash")
    return {(str(pk), tuple(choices), receipt) for pk, choices, receipt in rows}


def test_seal_keeps_every_ballot_but_not_the_order_they_were_cast_in(make_vote, bamako):
    voters = MemberFactory.create_batch(30, branch=bamako)
    vote = opened_before_sealing(make_vote())
    for n, voter in enumerate(voters):
        casting.cast_ballot(vote=vote, member=voter, choices=[n % 3 + 1])
    before = _ballots(vote)
    cast_order = _physical_order(vote)

    counting.seal_ballots(vote)

    assert _ballots(vote) == before
    # 30 ballots back in cast order by chance: 1 in 30! (about 4e-33).
    assert _physical_order(vote) != cast_order
