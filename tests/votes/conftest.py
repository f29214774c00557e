"""Vote fixtures. Votes are created and opened through the services, as officers would.

- make_vote(kind=..., branch=..., options=[...]): an OPEN vote with its roll frozen now.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from votes.models import Vote, VoteKind
from votes.services import drafting


@pytest.fixture
def make_vote(secretary, bamako) -> Callable[..., Vote]:
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
        drafting.schedule_vote(actor=actor, vote=vote)
        vote.refresh_from_db()
        return vote

    return make


def close_now(vote: Vote) -> None:
    """Move the closing time into the past, as if the clock had run on."""
    now = timezone.now()
    Vote.objects.filter(pk=vote.pk).update(closes_at=now - timedelta(seconds=1))
    vote.refresh_from_db()


def count_now(vote: Vote) -> str:
    """Close the vote now and count it, as the clock would at its closing time.
    Returns the status it ends in."""
    from votes.services import counting

    close_now(vote)
    counting.claim_due_closures()
    status = counting.count_vote(vote.pk)
    vote.refresh_from_db()
    return status
