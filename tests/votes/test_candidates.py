"""Adding a candidate by membership number never tells whether the number exists in
another branch: a number from elsewhere and a number nobody has get the same answer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.core.exceptions import ValidationError
from django.utils import timezone

from tests.conftest import sign_in
from tests.factories import MemberFactory
from union.models import Member
from votes.models import Vote, VoteKind, VoteOption
from votes.services import drafting

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(secretary, bamako) -> Vote:
    now = timezone.now()
    return drafting.create_vote(
        actor=secretary.user,
        spec=drafting.VoteSpec(
            kind=VoteKind.ELECTION,
            title="Branch board",
            text="",
            branch=bamako,
            opens_at=now + timedelta(days=1),
            closes_at=now + timedelta(days=8),
        ),
    )


@pytest.fixture
def elsewhere(segou) -> Member:
    return MemberFactory(branch=segou, number="SEG-000042")


def _add(client, vote: Vote, number: str) -> tuple[int, list[str], bytes]:
    from django.urls import reverse

    response = client.post(
        reverse("votes:office_detail", args=[vote.public_id]),
        {"action": "add_option", "label": "Candidate", "statement": "", "member_number": number},
    )
    shown = response.content.replace(number.encode(), b"<number>")
    return response.status_code, [str(m) for m in get_messages(response.wsgi_request)], shown


def test_adding_a_candidate_never_tells_whether_a_number_exists_in_another_branch(
    client, secretary, draft, elsewhere
):
    sign_in(client, secretary)
    other_branch = _add(client, draft, "SEG-000042")
    nobody = _add(client, draft, "SEG-000043")
    assert other_branch[:2] == nobody[:2]
    assert other_branch[1] == ["No member of the voting branch has this membership number."]
    assert not VoteOption.objects.filter(vote=draft).exists()


def test_the_service_gives_one_answer_for_a_number_of_another_branch_and_no_number(
    secretary, draft, elsewhere
):
    answers = []
    for number in ("SEG-000042", "SEG-000043"):
        with pytest.raises(ValidationError) as refused:
            drafting.add_option(
                actor=secretary.user, vote=draft, label="Candidate", member_number=number
            )
        answers.append(refused.value.messages)
    with pytest.raises(ValidationError) as refused:
        drafting.add_option(actor=secretary.user, vote=draft, label="Candidate", member=elsewhere)
    answers.append(refused.value.messages)
    assert answers[0] == answers[1] == answers[2]


def test_a_member_of_the_voting_branch_is_found_by_number(client, secretary, draft, bamako):
    kadi = MemberFactory(branch=bamako, number="BKO-000077")
    sign_in(client, secretary)
    status, _messages, _page = _add(client, draft, "bko-000077")
    assert status == 302
    assert VoteOption.objects.get(vote=draft).member == kadi


def test_a_national_vote_takes_candidates_from_every_branch(
    national_coordinator, national, elsewhere
):
    now = timezone.now()
    vote = drafting.create_vote(
        actor=national_coordinator.user,
        spec=drafting.VoteSpec(
            kind=VoteKind.ELECTION,
            title="National board",
            text="",
            branch=national,
            opens_at=now + timedelta(days=1),
            closes_at=now + timedelta(days=8),
        ),
    )
    option = drafting.add_option(
        actor=national_coordinator.user, vote=vote, label="S", member_number="SEG-000042"
    )
    assert option.member == elsewhere
