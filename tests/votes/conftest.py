"""Vote fixtures. Votes are created and opened through the services, as officers would.

- make_vote(kind=..., branch=..., options=[...]): an OPEN vote with its roll frozen now.
  Its tellers are the officer who made it (teller 1) and two national members (2 and 3),
  each with a key sheet made and confirmed; 2 of the 3 sheets open its ballot box.
- sheet_words(vote, number): the words teller `number` printed (kept by the test only).
- count_now(vote): close it now and count it, the tellers opening the box with sheets 1, 2.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from tests.factories import MemberFactory
from union.models import Branch
from votes.models import Vote, VoteKind, VoteStatus
from votes.services import drafting, tellers

# What each teller printed, by vote and teller number: the server keeps none of it.
_SHEETS: dict[Any, dict[int, str]] = {}


def give_sheets(vote: Vote, language: str = "english") -> dict[int, str]:
    """Every teller of the vote without a confirmed sheet makes one and types it back, as
    on their own screen."""
    words = _SHEETS.setdefault(vote.public_id, {})
    for teller in vote.tellers.filter(confirmed_at__isnull=True).select_related("member__user"):
        user = teller.member.user
        sheet = tellers.make_key_sheet(actor=user, vote=vote)
        words[teller.number] = " ".join(sheet.words(language))
        tellers.confirm_key_sheet(actor=user, vote=vote, words=words[teller.number])
    return words


def sheet_words(vote: Vote, number: int) -> str:
    return _SHEETS[vote.public_id][number]


def add_tellers(vote: Vote, branch: Branch, n: int = 2) -> None:
    officer = vote.created_by
    assert officer is not None
    for _ in range(n):
        tellers.add_teller(
            actor=officer, vote=vote, member=MemberFactory(branch=branch, with_login=True)
        )


@pytest.fixture
def make_vote(secretary, bamako, national) -> Callable[..., Vote]:
    def make(
        kind: str = VoteKind.ELECTION,
        *,
        branch: Any = None,
        options: list[str] | None = None,
        candidates: list[Any] | None = None,
        officer: Any = None,
        **spec: Any,
    ) -> Vote:
        actor = (officer or secretary).user
        now = timezone.now()
        vote = drafting.create_vote(
            actor=actor,
            spec=drafting.VoteSpec(
                kind=kind,
                title=spec.pop("title", f"Test {kind}"),
                text="",
                branch=branch or bamako,
                opens_at=spec.pop("opens_at", now - timedelta(minutes=1)),
                closes_at=spec.pop("closes_at", now + timedelta(days=1)),
                threshold=spec.pop("threshold", "simple" if kind == VoteKind.MOTION else ""),
                **spec,
            ),
        )
        if candidates:
            for person in candidates:
                drafting.add_option(
                    actor=actor, vote=vote, label=person.working_name, member=person
                )
        elif kind != VoteKind.MOTION:
            for label in options or ["Awa", "Fanta", "Mariam"]:
                drafting.add_option(actor=actor, vote=vote, label=label)
        # National members: on no branch's roll, so turnouts and quorums stay as written.
        add_tellers(vote, national, n=max(2, vote.shares_needed))
        give_sheets(vote)
        drafting.schedule_vote(actor=actor, vote=vote)
        vote.refresh_from_db()
        return vote

    return make


def close_now(vote: Vote) -> None:
    """Move the closing time into the past, as if the clock had run on."""
    now = timezone.now()
    Vote.objects.filter(pk=vote.pk).update(closes_at=now - timedelta(seconds=1))
    vote.refresh_from_db()


def open_box(vote: Vote, numbers: Iterable[int] = (1, 2), actor: Any = None) -> str:
    """The tellers `numbers` type their sheets into the returning officer's count form."""
    from votes.services import unsealing

    vote.refresh_from_db()
    return unsealing.open_ballot_box(
        actor=actor or vote.created_by,
        vote=vote,
        sheets={n: sheet_words(vote, n) for n in numbers},
    )


def count_now(vote: Vote, numbers: Iterable[int] = (1, 2)) -> str:
    """Close the vote now and count it, as the clock and then the tellers would.
    Returns the status it ends in."""
    from votes.services import counting

    close_now(vote)
    counting.claim_due_closures()
    vote.refresh_from_db()
    if vote.status == VoteStatus.TELLERS:
        status = open_box(vote, numbers)
    else:
        status = counting.count_vote(vote.pk)
    vote.refresh_from_db()
    return status


def opened_before_sealing(vote: Vote) -> Vote:
    """The vote as if it had opened before ballots were sealed: no key, plain ballots."""
    Vote.objects.filter(pk=vote.pk).update(public_key=None, receipt_salt=None)
    vote.refresh_from_db()
    return vote
