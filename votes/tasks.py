"""Background jobs for votes. Ids only; every job is safe to run twice."""

from __future__ import annotations

from functools import partial

from celery import shared_task
from django.db import transaction

from votes.models import Vote, VoteStatus
from votes.services import counting, drafting


@shared_task(time_limit=300, soft_time_limit=280, autoretry_for=(OSError,), max_retries=3)
def count_vote(vote_id: int) -> str:
    return counting.count_vote(vote_id)


@shared_task(time_limit=60, soft_time_limit=50)
def run_vote_clock() -> dict[str, int]:
    """Every minute: open what is due, close what is due, and (re)queue counts.

    A vote left in COUNTING by a worker that died is queued again on the next run.
    """
    from django.utils import timezone

    now = timezone.now()
    opened = 0
    for vote_id in Vote.objects.filter(status=VoteStatus.SCHEDULED, opens_at__lte=now).values_list(
        "pk", flat=True
    ):
        opened += drafting.open_vote(vote_id)
    closed = counting.claim_due_closures(now)
    to_count = list(Vote.objects.filter(status=VoteStatus.COUNTING).values_list("pk", flat=True))
    for vote_id in to_count:
        transaction.on_commit(partial(count_vote.delay, vote_id))
    return {"opened": opened, "closed": len(closed), "counting": len(to_count)}
