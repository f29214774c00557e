"""A ballot being cast when the vote closes is counted: the close waits for it.

On PostgreSQL the cast holds the vote's row FOR SHARE and the closing UPDATE waits for
it; on SQLite the cast holds the database's write lock (transactions begin IMMEDIATE) and
the close cannot begin. Either way no ballot slips in after the count has started and
none in flight is lost. Runs on both databases.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction

from tests.votes.conftest import open_box
from votes.models import Ballot, VoteMark, VoteStatus
from votes.services import casting, counting

pytestmark = pytest.mark.embedded


@pytest.mark.django_db(transaction=True)
def test_a_ballot_being_cast_as_the_vote_closes_is_counted(make_vote, member):
    vote = make_vote()
    closed: list[int] = []

    def close() -> None:
        try:
            closed.extend(counting.claim_due_closures(now=vote.closes_at + timedelta(seconds=1)))
        finally:
            connection.close()

    thread = threading.Thread(target=close)
    with transaction.atomic():
        casting.cast_ballot(vote=vote, member=member, choices=[1])
        thread.start()
        thread.join(timeout=0.5)
        assert thread.is_alive(), "the vote closed while a ballot was being cast"
    thread.join(timeout=30)

    assert closed == [vote.pk]
    assert open_box(vote) == VoteStatus.PUBLISHED  # two tellers open the sealed box
    assert Ballot.objects.filter(vote=vote).count() == 1
    assert VoteMark.objects.filter(vote=vote).count() == 1
