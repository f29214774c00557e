"""Why a count is held back is stored as codes and figures, and worded in the reader's
language when shown (issue 14): the returning officer reading in French sees the reason in
French, whether the vote was held before or after reasons became codes."""

from __future__ import annotations

import importlib
import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.conftest import sign_in
from tests.factories import MemberFactory
from tests.votes.test_results import _close_and_count
from union.models import Branch, Member
from votes import results
from votes.models import Ballot, Vote, VoteKind, VoteStatus
from votes.services import assembly, casting

pytestmark = pytest.mark.django_db

ENGLISH_REASONS = re.compile(
    r"voted marks|paper ballots|given out|tally|sealed ballots|ballots for"
)
held_problems = importlib.import_module("votes.migrations.0005_held_problems")


def _held_vote(make_vote, bamako: Branch, secretary: Member) -> Vote:
    """Two things that do not add up: a ballot without its voted mark, and a paper ballot
    given out in Bamako with no confirmed tally."""
    online, on_paper = MemberFactory(branch=bamako), MemberFactory(branch=bamako)
    vote = make_vote(VoteKind.SINGLE, options=["Awa", "Fanta"])
    casting.cast_ballot(vote=vote, member=online, choices=[1])
    Ballot.objects.create(vote=vote, choices=[2], receipt_hash="f" * 64)
    assembly.check_in(actor=secretary.user, vote=vote, number=on_paper.number, channel="paper")
    vote = _close_and_count(vote)
    assert vote.status == VoteStatus.HELD
    return vote


def _reason_shown(client: Client, vote: Vote) -> str:
    html = client.get(reverse("votes:office_detail", args=[vote.public_id])).content.decode()
    alert = re.search(r'<div class="errors" role="alert">(.*?)</div>', html, re.S)
    assert alert, "the held vote's alert is missing"
    return alert.group(1)


def test_a_held_vote_stores_codes_not_sentences(make_vote, bamako, secretary):
    vote = _held_vote(make_vote, bamako, secretary)
    assert vote.held_problems == [
        {"code": results.BALLOTS_WITHOUT_MARKS, "ballots": 2, "marks": 1},
        {"code": results.PAPER_WITHOUT_TALLY, "branch": bamako.code, "given_out": 1},
    ]


def test_a_held_vote_read_in_french_gives_its_reason_in_french(
    french: Client, make_vote, bamako, secretary
):
    vote = _held_vote(make_vote, bamako, secretary)
    alert = _reason_shown(sign_in(french, secretary), vote)
    assert "Le résultat est retenu" in alert
    assert "ne correspondent pas aux membres" in alert
    assert f"Section {bamako.code}\u00a0: 1 bulletin papier distribué" in alert
    assert not ENGLISH_REASONS.search(alert), alert


def test_a_held_vote_read_in_english_gives_its_reason_in_english(
    client: Client, make_vote, bamako, secretary
):
    vote = _held_vote(make_vote, bamako, secretary)
    alert = _reason_shown(sign_in(client, secretary), vote)
    assert f"Branch {bamako.code}: 1 paper ballot given out, and no confirmed tally." in alert


def test_a_reason_stored_in_english_before_the_codes_is_read_back_into_codes():
    old = (
        "3 ballots for 2 voted marks; 1 sealed ballots that do not open to a valid ballot; "
        "BKO: 4 paper ballots given out, no confirmed tally; "
        "SGU: 5 paper ballots counted, 3 given out; BKO: 2 paper ballots giv"
    )
    assert held_problems.problems_from_reason(old) == [
        {"code": results.BALLOTS_WITHOUT_MARKS, "ballots": 3, "marks": 2},
        {"code": results.SEALED_UNOPENED, "ballots": 1},
        {"code": results.PAPER_WITHOUT_TALLY, "branch": "BKO", "given_out": 4},
        {"code": results.PAPER_OVER_GIVEN_OUT, "branch": "SGU", "counted": 5, "given_out": 3},
        # Cut off at the old field's 200 characters: kept as it was.
        {"code": "text", "text": "BKO: 2 paper ballots giv"},
    ]


def test_a_vote_held_before_the_codes_reads_in_french_after_the_migration(
    french: Client, make_vote, bamako, secretary
):
    vote = _held_vote(make_vote, bamako, secretary)
    old = (
        f"2 ballots for 1 voted marks; {bamako.code}: 1 paper ballots given out, no confirmed tally"
    )
    Vote.objects.filter(pk=vote.pk).update(held_problems=held_problems.problems_from_reason(old))
    alert = _reason_shown(sign_in(french, secretary), vote)
    assert f"Section {bamako.code}\u00a0: 1 bulletin papier distribué" in alert
    assert not ENGLISH_REASONS.search(alert), alert
