"""Election results in plain words, in the member's language (issue 14, item 5): whole
numbers where they are whole, ties explained with names, and the technical detail (five
decimals, transfer values, SHA-256) behind a "how it was counted" disclosure. The same for
the list of ballots."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import MemberFactory
from tests.votes.test_results import _close_and_count
from votes.models import Vote
from votes.services import casting

pytestmark = pytest.mark.django_db


def _outside_details(html: str) -> str:
    main = re.search(r"<main.*?</main>", html, re.S).group(0)
    return re.sub(r"<details.*?</details>", "", main, flags=re.S)


def _details(html: str) -> str:
    found = re.findall(r"<details.*?</details>", html, re.S)
    assert found, "no disclosure"
    return "\n".join(found)


@pytest.fixture
def tied_election(make_vote, bamako, member) -> Vote:
    """One seat, four candidates: Cora and Dana tie for last at the first round, with no
    earlier round to tell them apart, so the lot decides."""
    rankings = [[1, 2], [1], [2, 1], [2], [3, 1], [4, 2]]
    people = [member, *(MemberFactory(branch=bamako) for _ in rankings[1:])]
    vote = make_vote(options=["Awa", "Binta", "Cora", "Dana"], seats=1)
    for person, ranking in zip(people, rankings, strict=True):
        casting.cast_ballot(vote=vote, member=person, choices=ranking)
    return _close_and_count(vote)


@pytest.fixture
def fractional_election(make_vote, bamako, member) -> Vote:
    """Two seats: Awa's surplus moves at a transfer value of 0.4, so Binta and Cora hold
    fractions of votes (2.6 and 1.4)."""
    rankings = [[1, 2]] * 4 + [[1, 3], [2], [3]]
    people = [member, *(MemberFactory(branch=bamako) for _ in rankings[1:])]
    vote = make_vote(options=["Awa", "Binta", "Cora"], seats=2)
    for person, ranking in zip(people, rankings, strict=True):
        casting.cast_ballot(vote=vote, member=person, choices=ranking)
    return _close_and_count(vote)


def test_a_tie_broken_by_lot_is_told_with_names_in_french(
    french: Client, member, tied_election: Vote
) -> None:
    french.force_login(member.user)
    html = french.get(reverse("votes:results", args=[tied_election.public_id])).content.decode()
    assert "tie (" not in html and "broken by" not in html
    details = _details(html)
    assert "tirage au sort" in details
    assert "Cora" in details and "Dana" in details
    assert "Comment le décompte a été fait" in details


def test_votes_are_whole_numbers_and_fractions_are_written_the_french_way(
    french: Client, member, fractional_election: Vote
) -> None:
    french.force_login(member.user)
    url = reverse("votes:results", args=[fractional_election.public_id])
    html = french.get(url).content.decode()
    assert "00000" not in html  # no five-decimal padding anywhere
    details = _details(html)
    assert ">2,6<" in details and ">1,4<" in details
    assert ">5<" in _outside_details(html)  # Awa's five first preferences
    assert "Changer" not in details


def test_the_technical_detail_is_behind_the_disclosure(
    client: Client, member, fractional_election: Vote
) -> None:
    client.force_login(member.user)
    results = client.get(reverse("votes:results", args=[fractional_election.public_id]))
    html = results.content.decode()
    assert "SHA-256" not in _outside_details(html)
    assert "SHA-256" in _details(html)
    assert "transfer value" not in _outside_details(html)
    ballots = client.get(reverse("votes:ballots", args=[fractional_election.public_id]))
    listing = ballots.content.decode()
    assert "SHA-256" not in _outside_details(listing)
    assert "SHA-256" in _details(listing)


def test_the_elected_are_named_in_a_sentence(client: Client, member, fractional_election):
    client.force_login(member.user)
    html = client.get(reverse("votes:results", args=[fractional_election.public_id]))
    lead = re.search(r'<p class="lead">(.*?)</p>', html.content.decode(), re.S).group(1)
    assert " ".join(lead.split()) == "Awa and Binta are elected."
