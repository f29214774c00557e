"""Closing, counting and publishing votes, and the anonymised ballots for recounts.

The flow: a beat job (votes.tasks) claims votes whose closing time has passed
(OPEN -> COUNTING, a conditional UPDATE) and queues count_vote for each. The count first
checks that the ballots match the voted marks and that every branch that gave out paper
ballots has a confirmed tally. If anything does not add up the result is HELD, not
published, and the returning officer is alerted through the outbox.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone

from union.models import AuditAction
from union.services.audit import record_access
from votes.counting import tally
from votes.counting.blt import write_blt
from votes.counting.irv import count_irv
from votes.counting.profile import Profile
from votes.counting.stv import count_stv
from votes.models import (
    Ballot,
    BallotChannel,
    BranchTally,
    Vote,
    VoteKind,
    VoteMark,
    VoteStatus,
)

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
    for vote_id in due.values_list("pk", flat=True):
        with transaction.atomic():
            if Vote.objects.filter(pk=vote_id, status=VoteStatus.OPEN).update(
                status=VoteStatus.COUNTING
            ):
                vote = Vote.objects.select_related("branch").get(pk=vote_id)
                record_access(
                    actor=None,
                    action=AuditAction.VOTE_CLOSE,
                    target=f"vote:{vote.public_id}",
                    branch=vote.branch,
                )
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


def _seal(vote: Vote) -> None:
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


def grouped_ballots(vote: Vote) -> list[tuple[tuple[int, ...], int]]:
    """(choices, how many ballots) for the electronic ballots: one GROUP BY in the database."""
    rows = Ballot.objects.filter(vote=vote).values_list("choices").annotate(n=Count("*")).order_by()
    return [(tuple(choices), n) for choices, n in rows]


def election_profile(vote: Vote, *, with_paper: bool = True) -> Profile:
    options = list(vote.options.order_by("number"))
    profile = Profile(
        candidates=len(options),
        seats=vote.seats,
        names=[o.label for o in options],
        title=vote.lot_seed,
    )
    for ranking, n in grouped_ballots(vote):
        profile.add(ranking, n)
    if with_paper:
        for paper in BranchTally.objects.filter(vote=vote):
            for n, ranking in paper.counts:
                profile.add(ranking, n)
    return profile


def blt_for(vote: Vote) -> str:
    """The anonymised ballots of an election, paper included, as a BLT file."""
    return write_blt(election_profile(vote))


def _problems(vote: Vote) -> list[str]:
    """Why the count cannot be published; empty when ballots and marks agree."""
    problems = []
    electronic = Ballot.objects.filter(vote=vote).count()
    marked = VoteMark.objects.filter(
        vote=vote, channel__in=[BallotChannel.ONLINE, BallotChannel.ASSISTED]
    ).count()
    if electronic != marked:
        problems.append(f"{electronic} ballots for {marked} voted marks")
    paper_marks = dict(
        VoteMark.objects.filter(vote=vote, channel=BallotChannel.PAPER)
        .values_list("branch__code")
        .annotate(n=Count("*"))
        .order_by()
    )
    tallies = {t.branch.code: t.ballots for t in vote.tallies.select_related("branch")}
    for code in sorted(set(paper_marks) | set(tallies)):
        issued, counted = paper_marks.get(code, 0), tallies.get(code)
        if counted is None:
            problems.append(f"{code}: {issued} paper ballots given out, no confirmed tally")
        elif counted > issued:
            problems.append(f"{code}: {counted} paper ballots counted, {issued} given out")
    return problems


def compute_result(vote: Vote) -> dict[str, Any]:
    """The result as published: turnout, quorum, totals, and the rounds of an election."""
    eligible = vote.eligible_count or 0
    turnout = VoteMark.objects.filter(vote=vote).count()
    quorum_met = turnout * 100 >= vote.quorum_percent * eligible and turnout > 0
    options = {o.number: o.label for o in vote.options.all()}
    paper = sum(t.ballots for t in vote.tallies.all())
    result: dict[str, Any] = {
        "kind": vote.kind,
        "eligible": eligible,
        "turnout": turnout,
        "quorum_percent": vote.quorum_percent,
        "quorum_met": quorum_met,
        "electronic_ballots": Ballot.objects.filter(vote=vote).count(),
        "paper_ballots": paper,
    }
    if vote.kind == VoteKind.ELECTION:
        profile = election_profile(vote)
        count = count_irv(profile) if vote.seats == 1 else count_stv(profile)
        result["count"] = count.to_dict()
        result["elected"] = count.elected
        first = count.stages[0].totals if count.stages else {}
        result["totals"] = [
            {"number": n, "label": label, "votes": first.get(n, 0) // 100_000}
            for n, label in sorted(options.items())
        ]
    else:
        marks = tally.tally_marks(grouped_ballots(vote))
        for paper_tally in vote.tallies.all():
            for number, n in paper_tally.counts.items():
                marks[int(number)] += n
        result["totals"] = [
            {"number": n, "label": label, "votes": marks.get(n, 0)}
            for n, label in sorted(options.items())
        ]
        if vote.kind == VoteKind.MOTION:
            outcome = tally.motion_outcome(
                votes_for=marks.get(1, 0),
                against=marks.get(2, 0),
                abstain=marks.get(3, 0),
                threshold=vote.threshold,
            )
            result["carried"] = outcome.carried and quorum_met
            result["elected"] = []
        else:
            result["elected"] = tally.winners(
                dict(marks), options=sorted(options), seats=vote.seats, seed=vote.lot_seed
            )
    result["valid"] = quorum_met
    return result


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
        _seal(vote)
        problems = _problems(vote)
        vote.counted_at = timezone.now()
        if problems:
            vote.status = VoteStatus.HELD
            vote.held_reason = "; ".join(problems)[:200]
            vote.save(update_fields=["status", "held_reason", "counted_at"])
            record_access(
                actor=None,
                action=AuditAction.VOTE_HOLD,
                target=f"vote:{vote.public_id}",
                branch=vote.branch,
            )
            notify_member(
                member=vote.returning_officer,
                kind="vote_held",
                dedupe_key=f"vote-held:{vote.pk}:{vote.held_reason}"[:100],
                context={},
            )
            return str(vote.status)
        vote.result = compute_result(vote)
        vote.status = VoteStatus.PUBLISHED
        vote.held_reason = ""
        vote.save(update_fields=["status", "result", "held_reason", "counted_at"])
        record_access(
            actor=None,
            action=AuditAction.VOTE_PUBLISH,
            target=f"vote:{vote.public_id}",
            branch=vote.branch,
        )
    return str(vote.status)


def recount_vote(*, actor: User, vote: Vote) -> str:
    """The returning officer counts a held vote again (after a late paper tally, say)."""
    from django.core.exceptions import PermissionDenied

    from votes.selectors import may_manage

    if not may_manage(actor, vote):
        raise PermissionDenied
    if Vote.objects.filter(pk=vote.pk, status=VoteStatus.HELD).update(status=VoteStatus.COUNTING):
        return count_vote(vote.pk)
    vote.refresh_from_db()
    return str(vote.status)


def receipts_counter(vote: Vote) -> Counter[str]:
    """How many published ballots carry each receipt hash (always 1: a unique column)."""
    return Counter(Ballot.objects.filter(vote=vote).values_list("receipt_hash", flat=True))
