"""Casting a ballot: the voted mark and the secret ballot, written together.

The ballot is sealed to the vote's public key in the request, before anything is written:
the database only ever holds it sealed (votes.sealing), until the tellers open the box at
the count. No audit row, no message, no task: nothing else knows that a vote was cast.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from union.models import Member
from votes import receipts, sealing
from votes.counting.profile import BallotError, check_ranking
from votes.models import (
    Ballot,
    BallotChannel,
    SealedBallot,
    Vote,
    VoteKind,
    VoteMark,
    VoteRoll,
    VoteStatus,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class AlreadyVoted(ValidationError):
    def __init__(self) -> None:
        super().__init__(_("You have already voted in this vote. Your vote was counted once."))


def parse_choices(vote: Vote, raw: Iterable[Any]) -> list[int]:
    """Check and normalise what a ballot form sent. Raises a translated ValidationError.

    Motions and single choice: exactly one option. Approval: any number of distinct
    options (none is a valid, empty approval). Elections: a ranking of distinct
    candidates, at least a first choice.
    """
    numbers = {option.number for option in vote.options.all()}  # prefetched by the screens
    choices: list[int] = []
    for value in raw:
        try:
            number = int(str(value))
        except ValueError:
            raise ValidationError(_("This ballot holds a choice that is not on it.")) from None
        if number not in numbers:
            raise ValidationError(_("This ballot holds a choice that is not on it."))
        choices.append(number)
    if vote.kind in (VoteKind.MOTION, VoteKind.SINGLE):
        if len(choices) != 1:
            raise ValidationError(_("Choose one answer."))
        return choices
    if len(set(choices)) != len(choices):
        if vote.kind == VoteKind.ELECTION:
            raise ValidationError(_("You chose the same candidate twice. Each can have one place."))
        raise ValidationError(_("You chose the same candidate twice."))
    if vote.kind == VoteKind.APPROVAL:
        return sorted(choices)
    if not choices:
        raise ValidationError(_("Choose at least your first choice."))
    try:
        return list(check_ranking(choices, max(numbers)))
    except BallotError:
        raise ValidationError(_("This ballot holds a choice that is not on it.")) from None


# The table names come from the models, once; nothing but the parameters varies.
LOCK_OPEN_VOTE_SQL = (
    f"SELECT v.*, EXISTS (SELECT 1 FROM {VoteRoll._meta.db_table} r "  # noqa: S608
    "WHERE r.vote_id = v.id AND r.member_id = %s) AS on_roll "
    f"FROM {Vote._meta.db_table} v WHERE v.id = %s FOR SHARE OF v"
)


def lock_open_vote(vote_id: int, member_id: int) -> tuple[Vote, bool]:
    """Read the vote inside the casting transaction and refuse if it is not open now.
    Also says whether the member is on its roll (frozen at opening), in the same query.

    On PostgreSQL the row is locked FOR SHARE: casts do not block each other, but the
    close (an UPDATE of the row) waits for the casts in flight and casts that come after
    it see it closed, so no ballot slips in after the count has started.
    """
    if connection.vendor == "postgresql":
        # One round trip locks the row, reads it and checks the roll.
        locked = Vote.objects.raw(LOCK_OPEN_VOTE_SQL, [member_id, vote_id])
        found = next(iter(locked), None)
        if found is None:
            raise Vote.DoesNotExist
        vote = found
    else:
        # SQLite: transactions begin IMMEDIATE (settings), so a cast already holds the
        # database's one write lock and the close waits for it, like the share lock above.
        on_roll = VoteRoll.objects.filter(vote=OuterRef("pk"), member_id=member_id)
        vote = Vote.objects.annotate(on_roll=Exists(on_roll)).get(pk=vote_id)
    now = timezone.now()
    if vote.status != VoteStatus.OPEN or not (vote.opens_at <= now < vote.closes_at):
        raise ValidationError(_("This vote is not open. Nothing was recorded."))
    return vote, bool(vote.on_roll)  # type: ignore[attr-defined]


# PostgreSQL: a sealed ballot's whole cast in one statement, one round trip, atomic as any
# statement is: the vote row locked FOR SHARE if it is open now and the member on its roll
# (as lock_open_vote), the voted mark (unique: a second submission fails here), and the
# sealed ballot. Nothing inserted means not open or not on the roll: lock_open_vote says
# which. Casting is the one write every member makes at once, hence the care.
CAST_SEALED_SQL = f"""
WITH open_vote AS (
    SELECT v.id FROM {Vote._meta.db_table} v
    WHERE v.id = %(vote)s AND v.status = %(open)s AND v.opens_at <= %(now)s
        AND v.closes_at > %(now)s
        AND EXISTS (SELECT 1 FROM {VoteRoll._meta.db_table} r
            WHERE r.vote_id = v.id AND r.member_id = %(member)s)
    FOR SHARE OF v
), mark AS (
    INSERT INTO {VoteMark._meta.db_table} (vote_id, member_id, channel, branch_id, officer_id, "at")
    SELECT id, %(member)s, %(channel)s, %(branch)s, %(officer)s, %(now)s FROM open_vote
    RETURNING vote_id
)
INSERT INTO {SealedBallot._meta.db_table} (id, vote_id, sealed, lookup)
SELECT %(id)s, vote_id, %(sealed)s, %(lookup)s FROM mark
"""  # noqa: S608


def _cast_sealed_in_one_statement(
    *, vote: Vote, member: Member, row: SealedBallot, channel: str, officer: User | None
) -> None:
    # Alone, the statement is its own transaction; inside a caller's, a savepoint keeps a
    # refused second submission from aborting it.
    inside = transaction.atomic() if connection.in_atomic_block else nullcontext()
    with inside, connection.cursor() as cursor:
        cursor.execute(
            CAST_SEALED_SQL,
            {
                "vote": vote.pk,
                "open": VoteStatus.OPEN,
                "now": timezone.now(),
                "member": member.pk,
                "channel": channel,
                "branch": member.branch_id,
                "officer": officer.pk if officer is not None else None,
                "id": row.id,
                "sealed": bytes(row.sealed),
                "lookup": row.lookup,
            },
        )
        if cursor.rowcount == 1:
            return
    _vote, on_roll = lock_open_vote(vote.pk, member.pk)  # raises if it is not open
    if not on_roll:
        raise ValidationError(
            _("You are not on the list of voters for this vote. Nothing was recorded.")
        )
    raise ValidationError(_("This vote is not open. Nothing was recorded."))


def mark_voted(*, vote: Vote, member: Member, channel: str, officer: User | None) -> VoteMark:
    """That the member voted, how and through which officer. Unique per member and vote:
    inside a cast, a second submission fails here as a whole."""
    return VoteMark.objects.create(
        vote=vote, member=member, channel=channel, branch_id=member.branch_id, officer=officer
    )


def cast_ballot(
    *,
    vote: Vote,
    member: Member,
    choices: Iterable[Any],
    channel: str = BallotChannel.ONLINE,
    officer: User | None = None,
) -> str:
    """Record that the member voted and, separately, their ballot. Returns the receipt code.

    The ballot is sealed to the vote's key with the receipt's counted hash inside it, and
    stored with the receipt's lookup hash (votes.receipts); the slow hash and the sealing
    are done before the transaction, which only writes. Both rows are written in one
    transaction; the unique voted mark makes a second submission (double tap, second
    device, replay) fail as a whole, so exactly one ballot exists per member. The code is
    shown once and never stored. No audit row, no message, no task.
    A vote opened before ballots were sealed stores the ballot as cast, as it always did.
    """
    clean = parse_choices(vote, choices)
    if vote.public_key is None:  # a vote opened before sealing, or read before it opened
        vote.public_key, vote.receipt_salt = Vote.objects.values_list(
            "public_key", "receipt_salt"
        ).get(pk=vote.pk)
    row: Ballot | SealedBallot
    if vote.public_key is not None and vote.receipt_salt is not None:
        code = receipts.new_code()
        key = receipts.receipt_key(code, bytes(vote.receipt_salt))
        sealed = sealing.seal_ballot(
            sealing.sealing_box(bytes(vote.public_key)),
            choices=clean,
            counted_receipt=bytes.fromhex(receipts.counted_hash(key)),
            options=len(vote.options.all()),
        )
        row = SealedBallot(vote_id=vote.pk, sealed=sealed, lookup=receipts.sealed_lookup(key))
        del key
    else:
        code = receipts.new_code(receipts.LEGACY_LENGTH)
        row = Ballot(vote_id=vote.pk, choices=clean, receipt_hash=receipts.legacy_hash(code))
    try:
        if isinstance(row, SealedBallot) and connection.vendor == "postgresql":
            _cast_sealed_in_one_statement(
                vote=vote, member=member, row=row, channel=channel, officer=officer
            )
            return code
        with transaction.atomic():
            vote, on_roll = lock_open_vote(vote.pk, member.pk)
            if not on_roll:
                raise ValidationError(
                    _("You are not on the list of voters for this vote. Nothing was recorded.")
                )
            if (vote.public_key is None) != isinstance(row, Ballot):
                raise ValidationError(_("This vote is not open. Nothing was recorded."))
            mark_voted(vote=vote, member=member, channel=channel, officer=officer)
            row.save(force_insert=True)
    except IntegrityError:
        if VoteMark.objects.filter(vote=vote, member=member).exists():
            raise AlreadyVoted() from None
        raise
    return code
