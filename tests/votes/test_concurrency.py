"""100 members each submitting twice at the same moment: exactly 100 ballots, sealed while
the vote is open, and 100 counted once the tellers open the box."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from tests.factories import MemberFactory
from tests.votes.conftest import count_now
from votes.models import Ballot, SealedBallot, VoteMark, VoteStatus
from votes.services import casting

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.embedded]


def test_double_submissions_at_the_same_moment_give_one_ballot_each(make_vote, bamako):
    people = MemberFactory.create_batch(100, branch=bamako)
    vote = make_vote()
    barrier = threading.Barrier(40)
    outcomes: list[str] = []
    lock = threading.Lock()

    def submit(member_ids: list[int]) -> None:
        try:
            barrier.wait(timeout=30)
            for member_id in member_ids:
                person = next(p for p in people if p.pk == member_id)
                try:
                    casting.cast_ballot(vote=vote, member=person, choices=[2, 1])
                    result = "ok"
                except ValidationError:
                    result = "refused"
                with lock:
                    outcomes.append(result)
        finally:
            connection.close()

    # 40 threads; every member appears in two different threads' lists.
    ids = [p.pk for p in people]
    chunks = [ids[i::20] for i in range(20)]
    threads = [threading.Thread(target=submit, args=(chunk,)) for chunk in chunks * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert outcomes.count("ok") == 100
    assert outcomes.count("refused") == 100
    assert SealedBallot.objects.filter(vote=vote).count() == 100
    assert VoteMark.objects.filter(vote=vote).count() == 100
    assert count_now(vote) == VoteStatus.PUBLISHED
    assert Ballot.objects.filter(vote=vote).count() == 100
    assert not SealedBallot.objects.filter(vote=vote).exists()
    assert vote.result["totals"][1]["votes"] == 100  # every first choice, once
