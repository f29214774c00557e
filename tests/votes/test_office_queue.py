"""A paper tally one officer entered waits on the other officers' office home until a
second count confirms it (issue 14, item 4)."""

from __future__ import annotations

from django.test import Client

from tests.conftest import sign_in
from tests.factories import MemberFactory
from tests.union.test_office_queues import _waiting
from tests.votes.test_tally_screen import _enter, _hand_out_paper, _officer
from votes.models import VoteKind

LABEL = "Paper tallies to count a second time"


def test_a_tally_entered_once_waits_on_the_other_officers_office_home(
    make_vote, bamako, secretary, treasurer
) -> None:
    voters = MemberFactory.create_batch(3, branch=bamako)
    vote = make_vote(VoteKind.MOTION, threshold="simple", title="Drop-in centre")
    sec, tre = _officer(secretary), _officer(treasurer)
    _hand_out_paper(sec, vote, voters)
    _enter(sec, vote, bamako, 3, option_1=2, option_2=1, option_3=0)
    assert _waiting(sec.get("/office/").content.decode())[LABEL] == 0
    assert _waiting(tre.get("/office/").content.decode())[LABEL] == 1
    _enter(tre, vote, bamako, 3, option_1=2, option_2=1, option_3=0)
    assert _waiting(sign_in(Client(), treasurer).get("/office/").content.decode())[LABEL] == 0
