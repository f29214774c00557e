"""Closing, counting and publishing votes, recounting held ones, and turning an
election's result into roles.

The flow: a beat job (votes.tasks) claims votes whose closing time has passed
(OPEN -> TELLERS, a conditional UPDATE): their ballots are sealed, and wait for the
tellers to open the box at the count (services.unsealing), which then counts them. Votes
with no sealed ballot (opened before ballots were sealed, or voted on paper only) go
straight to COUNTING, and the beat job queues count_vote for each. The count first
checks that the ballots match the voted marks and that every branch that gave out paper
ballots has a confirmed tally (votes.results). If anything does not add up the result is
HELD, not published, and the returning officer is alerted through the outbox.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from union.models import RoleAssignment
from votes.audit import VoteAction
from votes.models import Ballot, SealedBallot, Vote, VoteStatus
from votes.results import compute_result, count_problems
from votes.services.common import record_vote_access, require_manage

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def claim_due_closures(now: Any = None) -> list[int]:
    """Close every open vote whose time is up; returns the ids this call closed.

    Each is claimed by a conditional UPDATE, so two beat runs never close one twice.
    The UPDATE waits for casts in flight (they hold the row FOR SHARE) and casts
    arriving after it see the vote closed.
    """
    now = now or timezone.now()
    closed = []
    due = Vote.objects.filter(status=VoteStatus.OPEN, closes_at__lte=now)
    for vote_id, public_key in due.values_list("pk", "public_key"):
        after = VoteStatus.COUNTING if public_key is None else VoteStatus.TELLERS
        with transaction.atomic():
            if Vote.objects.filter(pk=vote_id, status=VoteStatus.OPEN).update(status=after):
                # Read after the UPDATE, which waited for the casts in flight: an empty
                # ballot box (a vote on paper only) has nothing for the tellers to open.
                if (
                    after == VoteStatus.TELLERS
                    and not SealedBallot.objects.filter(vote_id=vote_id).exists()
                ):
                    Vote.objects.filter(pk=vote_id).update(status=VoteStatus.COUNTING)
                vote = Vote.objects.select_related("branch").get(pk=vote_id)
                record_vote_access(actor=None, action=VoteAction.CLOSE, vote=vote)
                closed.append(vote_id)
    return closed


# The table name comes from the model, once; nothing but the vote id varies.
_BALLOTS = Ballot._meta.db_table
SEAL_COPY_SQL = (
    "CREATE TEMP TABLE sealed_ballots AS "  # noqa: S608
    f"SELECT id, vote_id, choices, receipt_hash FROM {_BALLOTS} WHERE vote_id = %s"
)
SEAL_DELETE_SQL = f"DELETE FROM {_BALLOTS} WHERE vote_id = %s"  # noqa: S608
SEAL_REINSERT_SQL = (
    f"INSERT INTO {_BALLOTS} (id, vote_id, choices, receipt_hash) "  # noqa: S608
    "SELECT id, vote_id, choices, receipt_hash FROM sealed_ballots ORDER BY random()"
)


def seal_ballots(vote: Vote) -> None:
    """Rewrite the vote's ballots in random order.

    A ballot and its voted mark were inserted by one transaction, in the order they were
    cast: on PostgreSQL they share the hidden xmin column and sit on disk in that order,
    and on SQLite the ballot table's hidden rowid counts up with every cast, just as the
    marks' ids do. Re-inserting the ballots in random order, in the counting transaction,
    gives every ballot the same xmin and a random place and rowid: the live table no
    longer links a ballot to a mark. (Dead row versions and freed pages linger until
    VACUUM, and WAL and backups taken while the vote was open keep the old order: the
    server's administrator is trusted until the close.)

    The SQL is the same on both databases; the temporary table lives only inside this
    transaction (DDL is transactional on both, so a failure leaves nothing behind).
    """
    with connection.cursor() as cursor:
        cursor.execute(SEAL_COPY_SQL, [vote.pk])
        cursor.execute(SEAL_DELETE_SQL, [vote.pk])
        cursor.execute(SEAL_REINSERT_SQL)
        cursor.execute("DROP TABLE sealed_ballots")


def _fingerprint(problems: list[dict[str, Any]]) -> str:
    """The same problems give the same alert key: a recount that still does not add up the
    same way alerts nobody twice."""
    return hashlib.sha256(json.dumps(problems, sort_keys=True).encode()).hexdigest()[:32]


def count_vote(vote_id: int) -> str:
    """Count a closed vote and publish it, or hold it back. Returns the status it ends in.

    Safe to run twice or concurrently: the row is locked and only a COUNTING vote is
    counted. Side effect when held: an alert to the returning officer (outbox).
    """
    from union.notifications.services import notify_member

    with transaction.atomic():
        vote = (
            Vote.objects.select_for_update(skip_locked=True)
            .select_related("branch", "returning_officer")
            .filter(pk=vote_id)
            .first()
        )
        if vote is None:
            return "busy"
        if vote.status != VoteStatus.COUNTING:
            return str(vote.status)
        if vote.public_key is None:
            seal_ballots(vote)  # sealed votes' ballots were written shuffled when unsealed
        problems = count_problems(vote)
        vote.counted_at = timezone.now()
        if problems:
            vote.status = VoteStatus.HELD
            vote.held_problems = problems
            vote.save(update_fields=["status", "held_problems", "counted_at"])
            record_vote_access(actor=None, action=VoteAction.HOLD, vote=vote)
            notify_member(
                member=vote.returning_officer,
                kind="vote_held",
                dedupe_key=f"vote-held:{vote.pk}:{_fingerprint(problems)}",
                context={},
            )
            return str(vote.status)
        vote.result = compute_result(vote)
        vote.status = VoteStatus.PUBLISHED
        vote.held_problems = []
        vote.save(update_fields=["status", "result", "held_problems", "counted_at"])
        record_vote_access(actor=None, action=VoteAction.PUBLISH, vote=vote)
    return str(vote.status)


def recount_vote(*, actor: User, vote: Vote) -> str:
    """Those who run the vote count a held vote again (after a late paper tally, say).
    Returns the status it ends in. Only a held vote is counted again: a second click
    finds it counted and does nothing. Side effects: those of count_vote.
    """
    require_manage(actor, vote)
    with transaction.atomic():
        claimed = Vote.objects.filter(pk=vote.pk, status=VoteStatus.HELD).update(
            status=VoteStatus.COUNTING
        )
        if claimed:
            record_vote_access(actor=actor, action=VoteAction.RECOUNT, vote=vote)
    if claimed:
        return count_vote(vote.pk)
    vote.refresh_from_db()
    return str(vote.status)


def confirm_elected_roles(*, actor: User, vote: Vote) -> list[RoleAssignment]:
    """The returning officer turns the published election into role assignments for the
    term (union.services.roles.assign_role, which checks they may hand out that role).
    Once only; a second call returns nothing new.
    """
    from union.services.roles import assign_role

    if getattr(actor, "member", None) != vote.returning_officer:
        raise PermissionDenied
    with transaction.atomic():
        vote = Vote.objects.select_for_update().get(pk=vote.pk)
        if vote.roles_confirmed_at is not None:
            return []
        result = vote.result or {}
        if vote.status != VoteStatus.PUBLISHED or not vote.role or not result.get("valid"):
            raise ValidationError(_("Only a published, valid election can give roles."))
        if vote.term_starts_on is None:
            raise ValidationError(_("Give the date the term starts."))
        by_number = {o.number: o for o in vote.options.select_related("member")}
        made = []
        for number in result.get("elected", []):
            option = by_number[number]
            if option.member is None:
                continue
            made.append(
                assign_role(
                    actor=actor,
                    member=option.member,
                    role=vote.role,
                    branch=vote.branch,
                    starts_on=vote.term_starts_on,
                    ends_on=vote.term_ends_on,
                )
            )
        vote.roles_confirmed_at = timezone.now()
        vote.save(update_fields=["roles_confirmed_at"])
        record_vote_access(actor=actor, action=VoteAction.ROLES, vote=vote, rows=len(made))
    return made
