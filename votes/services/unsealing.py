"""Opening the ballot box at the count: k tellers type their key sheets' words into one
form, and the sealed ballots become the ballots that are counted and published.

Nothing the tellers type is kept: the words, their shares, the vote's secret and its
private key live in the memory of the one request that opens the box, and are dropped
when it ends. Wrong words change nothing and say which sheet is wrong.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from nacl.public import PrivateKey

from votes import sealing
from votes.audit import VoteAction
from votes.models import Ballot, SealedBallot, Teller, Vote, VoteKind, VoteStatus
from votes.services.common import record_vote_access, require_manage

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Sealed ballots opened per part: small enough that writing starts early.
OPEN_CHUNK = 2000


def _check_sheets(
    vote: Vote, tellers: dict[int, Teller], sheets: dict[int, str]
) -> dict[int, bytes]:
    """Each teller's typed words, checked against the public key of the sheet she
    confirmed. Raises a ValidationError naming each wrong field (teller_<number>)."""
    errors: dict[str, list[str]] = {}
    seeds: dict[int, bytes] = {}
    for number, words in sheets.items():
        if not words.strip():
            continue
        teller = tellers.get(number)
        try:
            seed = sealing.seed_from_words(words)
        except sealing.SheetError as exc:
            errors[f"teller_{number}"] = [str(exc)]
            continue
        if (
            teller is None
            or teller.public_key is None
            or sealing.sheet_public_key(seed, vote.public_id) != bytes(teller.public_key)
        ):
            errors[f"teller_{number}"] = [
                _("These words are a key sheet, but not this teller's sheet for this vote.")
            ]
            continue
        seeds[number] = seed
    if errors:
        raise ValidationError(errors)
    if len(seeds) < vote.shares_needed:
        raise ValidationError(
            ngettext(
                "%(k)s key sheets are needed to open the ballot box; %(n)s was entered.",
                "%(k)s key sheets are needed to open the ballot box; %(n)s were entered.",
                len(seeds),
            )
            % {"k": vote.shares_needed, "n": len(seeds)}
        )
    return seeds


def _valid(kind: str, numbers: frozenset[int], choices: list[int]) -> bool:
    """What parse_choices accepted when the ballot was cast, checked again: anyone holding
    the public key could seal a ballot, so a sealed ballot proves nothing by itself.
    (Choices are unsigned integers here: they were unpacked as such.)"""
    if len(set(choices)) != len(choices) or not numbers.issuperset(choices):
        return False
    if kind in (VoteKind.MOTION, VoteKind.SINGLE):
        return len(choices) == 1
    if kind == VoteKind.APPROVAL:
        return choices == sorted(choices)
    # A ranking: at least one candidate, each once, numbered from 1 (check_ranking's rule).
    return bool(choices) and min(choices) >= 1


def unseal_ballots(vote: Vote, private_key: PrivateKey) -> tuple[int, int]:
    """Open every sealed ballot of the vote, write the ballots in random order, delete the
    sealed ones that opened. Returns (opened, left sealed). Runs inside the caller's
    transaction: the ballots appear all at once, with one transaction id, and their
    order on disk is a shuffle that has nothing to do with the order they were cast in.

    The sealed ballots are shuffled first and written in the order they are opened, so
    writing one part overlaps with opening the next (sealing.in_threads).

    A sealed ballot that does not open, or holds what no ballot form could send, stays
    sealed: the count sees it and holds the result back (votes.results.count_problems).
    """
    numbers = frozenset(vote.options.values_list("number", flat=True))
    rows = list(SealedBallot.objects.filter(vote=vote).values_list("id", "sealed"))
    secrets.SystemRandom().shuffle(rows)
    open_one = sealing.ballot_opener(private_key)

    def open_part(part: Sequence[tuple[uuid.UUID, bytes | memoryview]]) -> _Opened:
        ballots: list[tuple[list[int], str]] = []
        failed: list[uuid.UUID] = []
        for pk, sealed in part:
            content = open_one(bytes(sealed))
            if content is None or not _valid(vote.kind, numbers, content[0]):
                failed.append(pk)
            else:
                ballots.append((content[0], content[1].hex()))
        return ballots, failed

    opened = 0
    left: list[uuid.UUID] = []
    with _ballot_writer(vote) as write:
        for ballots, failed in sealing.in_threads(open_part, rows, chunk=OPEN_CHUNK):
            write(ballots)
            opened += len(ballots)
            left.extend(failed)
    SealedBallot.objects.filter(vote=vote).exclude(pk__in=left).delete()
    return opened, len(left)


_Opened = tuple[list[tuple[list[int], str]], list[uuid.UUID]]
_BALLOT_COPY_SQL = f"COPY {Ballot._meta.db_table} (id, vote_id, choices, receipt_hash) FROM STDIN"


@contextmanager
def _ballot_writer(vote: Vote) -> Iterator[Callable[[list[tuple[list[int], str]]], None]]:
    """A function that inserts ballots in the order given. PostgreSQL: one COPY, each part
    sent as text (option numbers, hex and UUIDs need no escaping); SQLite: bulk_create."""
    if connection.vendor != "postgresql":

        def create(ballots: list[tuple[list[int], str]]) -> None:
            Ballot.objects.bulk_create(
                Ballot(id=uuid.uuid4(), vote_id=vote.pk, choices=choices, receipt_hash=receipt)
                for choices, receipt in ballots
            )

        yield create
        return
    with connection.cursor() as cursor, cursor.cursor.copy(_BALLOT_COPY_SQL) as copy:

        def send(ballots: list[tuple[list[int], str]]) -> None:
            copy.write(
                "".join(
                    f"{uuid.uuid4()}\t{vote.pk}\t[{', '.join(map(str, choices))}]\t{receipt}\n"
                    for choices, receipt in ballots
                )
            )

        yield send


def open_ballot_box(*, actor: User, vote: Vote, sheets: dict[int, str]) -> str:
    """The tellers' key sheets (teller number -> the words she typed; blank ones are
    skipped) open the ballot box of a closed vote, then the vote is counted as any other
    (counting.count_vote). Returns the status it ends in.

    Wrong words, or too few sheets, raise a translated ValidationError and change nothing.
    Side effects: the tellers' sealed shares are deleted; an audit row; those of
    count_vote; on SQLite, the file is compacted so that no freed page keeps a sealed
    ballot or share (VACUUM, then the WAL is emptied).
    """
    from votes.services.counting import count_vote

    require_manage(actor, vote)
    if vote.status != VoteStatus.TELLERS:
        raise ValidationError(_("This vote's ballot box is not waiting to be opened."))
    tellers = {t.number: t for t in vote.tellers.all()}
    seeds = _check_sheets(vote, tellers, sheets)
    with transaction.atomic():
        vote = Vote.objects.select_for_update(of=("self",)).select_related("branch").get(pk=vote.pk)
        if vote.status != VoteStatus.TELLERS or vote.public_key is None:
            raise ValidationError(_("This vote's ballot box is not waiting to be opened."))
        shares = []
        for number, seed in seeds.items():
            sealed_share = tellers[number].sealed_share
            if sealed_share is None:
                raise ValidationError(_("This vote's ballot box is not waiting to be opened."))
            shares.append(
                sealing.open_share(seed=seed, public_id=vote.public_id, sealed=bytes(sealed_share))
            )
        try:
            private_key = sealing.recover_vote_key(
                public_id=vote.public_id, public_key=bytes(vote.public_key), shares=shares
            )
        except sealing.SheetError as exc:
            raise ValidationError(str(exc)) from None
        del shares, seeds
        opened, _left = unseal_ballots(vote, private_key)
        del private_key
        # The shares have done their work: no sheet found later opens anything left here.
        Teller.objects.filter(vote=vote).update(sealed_share=None)
        vote.status = VoteStatus.COUNTING
        vote.unsealed_at = timezone.now()
        vote.save(update_fields=["status", "unsealed_at"])
        record_vote_access(actor=actor, action=VoteAction.UNSEAL, vote=vote, rows=opened)
    status = count_vote(vote.pk)
    compact_embedded_database()
    return status


def compact_embedded_database() -> None:
    """SQLite (the embedded default) keeps freed pages in its file, and every write in its
    WAL until a checkpoint. secure_delete (set on every connection, votes.apps) zeroes
    what is deleted; VACUUM rewrites the file; the checkpoint empties the WAL. Nothing to
    do on PostgreSQL, where only sealed ballots ever existed before the count."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        return
    with connection.cursor() as cursor:
        cursor.execute("VACUUM")
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
