"""Counting at close: quorum, thresholds, mismatches held, paper tallies, BLT recount."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from tests.factories import MemberFactory
from tests.votes.conftest import close_now, open_box
from union.models import Notification
from votes import receipts, results, tasks
from votes.counting.blt import parse_blt
from votes.counting.stv import count_stv
from votes.models import Ballot, BallotChannel, VoteKind, VoteMark, VoteStatus
from votes.services import assembly, casting, counting

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def _voters(branch, n):
    return [MemberFactory(branch=branch) for _ in range(n)]


def _close_and_count(vote):
    close_now(vote)
    tasks.run_vote_clock()  # eager Celery: closes; sealed ballots wait for the tellers
    vote.refresh_from_db()
    if vote.status == VoteStatus.TELLERS:
        open_box(vote)  # two tellers' sheets open the box, then it is counted
    else:
        counting.count_vote(vote.pk)  # paper only: counted at once (queued on commit)
    vote.refresh_from_db()
    return vote


@pytest.mark.parametrize(
    ("threshold", "votes_for", "against", "carried"),
    [
        ("simple", 3, 2, True),
        ("simple", 2, 2, False),
        ("two_thirds", 4, 2, True),
        ("two_thirds", 3, 2, False),
    ],
)
def test_motion_thresholds(make_vote, bamako, threshold, votes_for, against, carried):
    people = _voters(bamako, votes_for + against + 1)
    vote = make_vote(VoteKind.MOTION, threshold=threshold)
    for i, person in enumerate(people):
        choice = 1 if i < votes_for else 2 if i < votes_for + against else 3
        casting.cast_ballot(vote=vote, member=person, choices=[choice])
    vote = _close_and_count(vote)
    assert vote.status == VoteStatus.PUBLISHED
    assert vote.result["carried"] is carried
    assert [t["votes"] for t in vote.result["totals"]] == [votes_for, against, 1]


def test_quorum_not_met_means_the_motion_is_not_carried(make_vote, bamako):
    people = _voters(bamako, 9)
    vote = make_vote(VoteKind.MOTION, quorum_percent=50)
    casting.cast_ballot(vote=vote, member=people[0], choices=[1])
    vote = _close_and_count(vote)
    assert vote.result["quorum_met"] is False
    assert vote.result["carried"] is False
    assert vote.result["turnout"] == 1 and vote.result["eligible"] == 10  # and the secretary


def test_a_ballot_without_a_mark_holds_the_result_and_alerts_the_returning_officer(
    make_vote, member, secretary
):
    vote = make_vote()
    casting.cast_ballot(vote=vote, member=member, choices=[1])
    # A ballot stuffed straight into the table, already "opened".
    Ballot.objects.create(vote=vote, choices=[2], receipt_hash="f" * 64)
    vote = _close_and_count(vote)
    assert vote.status == VoteStatus.HELD
    assert vote.result is None
    assert vote.held_problems == [{"code": results.BALLOTS_WITHOUT_MARKS, "ballots": 2, "marks": 1}]
    alert = Notification.objects.get(kind="vote_held")
    assert alert.member == secretary  # the returning officer
    # Counting again changes nothing while it still does not add up; no second alert.
    assert counting.recount_vote(actor=secretary.user, vote=vote) == VoteStatus.HELD
    assert Notification.objects.filter(kind="vote_held").count() == 1


def test_paper_tally_needs_two_officers_who_agree_and_joins_the_result(
    make_vote, bamako, secretary, treasurer
):
    people = _voters(bamako, 4)
    vote = make_vote(VoteKind.SINGLE, options=["Awa", "Fanta"])
    casting.cast_ballot(vote=vote, member=people[0], choices=[2])
    for person in people[1:]:
        assembly.check_in(actor=secretary.user, vote=vote, number=person.number, channel="paper")
    first = assembly.enter_tally(
        actor=secretary.user, vote=vote, branch=bamako, ballots=3, counts={"1": 2, "2": 1}
    )
    assert not first.confirmed
    other = assembly.enter_tally(
        actor=treasurer.user, vote=vote, branch=bamako, ballots=3, counts={"1": 1, "2": 2}
    )
    assert other.differs and not other.confirmed
    agreed = assembly.enter_tally(
        actor=treasurer.user, vote=vote, branch=bamako, ballots=3, counts={"1": 2, "2": 1}
    )
    assert agreed.confirmed
    vote = _close_and_count(vote)
    assert vote.status == VoteStatus.PUBLISHED
    assert [t["votes"] for t in vote.result["totals"]] == [2, 2]
    assert vote.result["paper_ballots"] == 3 and vote.result["turnout"] == 4


def test_paper_ballots_without_a_confirmed_tally_hold_the_result(make_vote, bamako, secretary):
    person = _voters(bamako, 1)[0]
    vote = make_vote(VoteKind.SINGLE, options=["Awa", "Fanta"])
    assembly.check_in(actor=secretary.user, vote=vote, number=person.number, channel="paper")
    vote = _close_and_count(vote)
    assert vote.status == VoteStatus.HELD
    assert vote.held_problems == [
        {"code": results.PAPER_WITHOUT_TALLY, "branch": bamako.code, "given_out": 1}
    ]


def test_receipts_verify_against_the_published_ballots(make_vote, bamako):
    people = _voters(bamako, 3)
    vote = make_vote()
    codes = [
        casting.cast_ballot(vote=vote, member=p, choices=c)
        for p, c in zip(people, [[1, 2], [2], [3, 1, 2]], strict=True)
    ]
    vote = _close_and_count(vote)
    published = {b.receipt_hash: b.choices for b in Ballot.objects.filter(vote=vote)}
    salt = bytes(vote.receipt_salt)
    for code, choices in zip(codes, [[1, 2], [2], [3, 1, 2]], strict=True):
        assert published[receipts.counted_hash(receipts.receipt_key(code, salt))] == choices


def test_blt_export_then_count_gives_the_published_result(make_vote, bamako, tmp_path, capsys):
    people = _voters(bamako, 30)
    vote = make_vote(options=["Awa", "Fanta", "Mariam", "Rokia", "Nana"], seats=2)
    for i, person in enumerate(people):
        ranking = [[1, 2, 3], [2, 1], [3, 4], [4, 5, 1], [5, 3]][i % 5]
        casting.cast_ballot(vote=vote, member=person, choices=ranking)
    vote = _close_and_count(vote)
    blt = results.blt_for(vote)
    recount = count_stv(parse_blt(blt))
    assert recount.to_dict() == vote.result["count"]
    path = tmp_path / "e.blt"
    path.write_text(blt)
    call_command("count_blt", str(path))
    printed = capsys.readouterr().out.splitlines()
    names = {o.number: o.label for o in vote.options.all()}
    assert printed == [f"{i}. {names[c]}" for i, c in enumerate(vote.result["elected"], 1)]


def test_irv_for_one_seat_elections(make_vote, bamako):
    people = _voters(bamako, 9)
    vote = make_vote(options=["Awa", "Fanta", "Mariam"], seats=1)
    for i, person in enumerate(people):
        choices = [1] if i < 4 else [2] if i < 7 else [3, 2]  # A 4, B 3, C 2 -> C out, B 5
        casting.cast_ballot(vote=vote, member=person, choices=choices)
    vote = _close_and_count(vote)
    assert vote.result["count"]["method"] == "irv"
    assert vote.result["elected"] == [2]


def test_elected_become_roles_when_the_returning_officer_confirms(make_vote, bamako, secretary):
    candidates = _voters(bamako, 3)
    vote = make_vote(candidates=candidates, seats=1, role="treasurer", term_starts_on="2030-01-01")
    casting.cast_ballot(vote=vote, member=candidates[0], choices=[2])
    casting.cast_ballot(vote=vote, member=candidates[1], choices=[2, 1])
    vote = _close_and_count(vote)
    made = counting.confirm_elected_roles(actor=secretary.user, vote=vote)
    assert [(r.member, r.role, str(r.starts_on)) for r in made] == [
        (candidates[1], "treasurer", "2030-01-01")
    ]
    assert counting.confirm_elected_roles(actor=secretary.user, vote=vote) == []


def test_run_vote_clock_twice_counts_once(make_vote, member):
    vote = make_vote()
    casting.cast_ballot(vote=vote, member=member, choices=[1])
    close_now(vote)
    tasks.run_vote_clock()
    tasks.run_vote_clock()
    counting.count_vote(vote.pk)  # a count queued anyway waits for the tellers
    vote.refresh_from_db()
    assert vote.status == VoteStatus.TELLERS
    assert open_box(vote) == VoteStatus.PUBLISHED
    with pytest.raises(ValidationError, match="not waiting to be opened"):
        open_box(vote)
    tasks.run_vote_clock()
    vote.refresh_from_db()
    assert vote.status == VoteStatus.PUBLISHED
    assert VoteMark.objects.filter(vote=vote, channel=BallotChannel.ONLINE).count() == 1
