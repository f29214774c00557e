"""Nothing the server stores links a voter to how she voted: not while the vote is open, not
after the count, not two backups side by side, not with every key the server holds.

The attacker here has what a seized server or a stolen backup gives: every row of every
table with the columns the database hides (PostgreSQL's xmin and ctid, SQLite's rowid), a
full pg_dump (or a copy of the SQLite file) taken while the vote is open and another after
the count, and SECRET_KEY, FIELD_ENCRYPTION_KEYS and FIELD_HASH_KEY. She tries every link
we know of to pair each voted mark with a ballot: the same transaction id, the nearest one,
the order rows sit on disk, the order of the dump, the order of the keys, the times, and
across the two backups the order of rows and any value they share. 60 members cast 60
different rankings; by chance a pairing gets about 1 right, and more than 7 happens once in
a hundred thousand tries. Any strategy that does better is a leak.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import itertools
import json
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection

from tests.factories import MemberFactory
from tests.votes.conftest import count_now
from votes.models import VoteMark, VoteStatus
from votes.services import casting

pytestmark = [pytest.mark.embedded, pytest.mark.django_db(transaction=True)]

VOTERS = 60
BY_CHANCE = 7  # correct pairings a random guess exceeds with probability about 1e-5
MARKS = VoteMark._meta.db_table


@dataclass
class Row:
    table: str
    values: dict[str, Any]
    position: int  # order in the backup
    physical: Any = None  # ctid (page, item) on PostgreSQL, rowid on SQLite
    xid: int | None = None  # PostgreSQL: the transaction that wrote the row
    ranking: tuple[int, ...] | None = None  # what the attacker could read as a ballot


@dataclass
class Backup:
    rows: dict[str, list[Row]] = field(default_factory=dict)
    decrypted: list[str] = field(default_factory=list)  # values a server key opened


# --- taking a backup ------------------------------------------------------------------


def _unescape_copy(text: str) -> str | None:
    if text == r"\N":
        return None
    out, chars = [], iter(text)
    for ch in chars:
        if ch != "\\":
            out.append(ch)
            continue
        nxt = next(chars, "")
        out.append({"t": "\t", "n": "\n", "r": "\r", "\\": "\\"}.get(nxt, nxt))
    return "".join(out)


def _pg_backup() -> Backup:
    """pg_dump of the whole database, with each row's xmin and ctid read beside it."""
    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    pg_dump = Path(os.environ.get("PG_BINDIR", "")) / "pg_dump"
    command = [str(pg_dump) if pg_dump.exists() else "pg_dump", "--data-only", "--no-owner"]
    command += ["-h", db["HOST"] or "127.0.0.1", "-p", str(db["PORT"] or 5432)]
    command += ["-U", db["USER"] or "postgres", db["NAME"]]
    dump = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    backup = Backup()
    table, columns = None, []
    for line in dump.splitlines():
        if line.startswith("COPY "):
            head, _sep, rest = line[5:].partition(" (")
            table = head.split(".")[-1].strip('"')
            columns = [c.strip().strip('"') for c in rest.split(") FROM")[0].split(",")]
            backup.rows[table] = []
        elif line == "\\.":
            table = None
        elif table is not None:
            values = dict(zip(columns, map(_unescape_copy, line.split("\t")), strict=True))
            rows = backup.rows[table]
            rows.append(Row(table, values, position=len(rows)))
    with connection.cursor() as cursor:
        for table, rows in backup.rows.items():
            if not rows or "id" not in rows[0].values:
                continue
            cursor.execute(f'SELECT id::text, xmin::text::bigint, ctid::text FROM "{table}"')  # noqa: S608
            hidden = {pk: (xid, ctid) for pk, xid, ctid in cursor.fetchall()}
            for row in rows:
                xid, ctid = hidden.get(row.values["id"], (None, None))
                row.xid = xid
                if ctid:
                    page, item = ctid.strip("()").split(",")
                    row.physical = (int(page), int(item))
    return backup


def _sqlite_backup(tmp: Path) -> Backup:
    """A copy of the database file, as a backup of the embedded default would be."""
    copy = tmp / f"backup-{len(list(tmp.iterdir()))}.sqlite3"
    target = sqlite3.connect(copy)
    connection.ensure_connection()
    connection.connection.backup(target)
    target.close()
    shutil.copyfile(copy, copy.with_suffix(".kept"))  # what a thief would carry away
    source = sqlite3.connect(copy.with_suffix(".kept"))
    backup = Backup()
    tables = [
        name
        for (name,) in source.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if not name.startswith("sqlite_")
    ]
    for table in tables:
        try:
            cursor = source.execute(f'SELECT rowid AS "__rowid", * FROM "{table}"')  # noqa: S608
        except sqlite3.OperationalError:  # WITHOUT ROWID
            continue
        names = [d[0] for d in cursor.description]
        rows = []
        for position, record in enumerate(cursor.fetchall()):
            values = dict(zip(names, record, strict=True))
            rowid = values.pop("__rowid")
            rows.append(Row(table, values, position=position, physical=rowid))
        backup.rows[table] = rows
    source.close()
    return backup


# --- what the attacker can read -------------------------------------------------------


def _candidate_keys() -> list[bytes]:
    """Every 32-byte key one could make from the server's keys."""
    materials = [settings.SECRET_KEY, settings.FIELD_HASH_KEY, *settings.FIELD_ENCRYPTION_KEYS]
    keys = []
    for material in materials:
        raw = material.encode()
        keys.append(hashlib.sha256(raw).digest())
        keys.append(raw[:32].ljust(32, b"\0"))
        with contextlib.suppress(ValueError):
            keys.append(
                base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))[:32].ljust(32, b"\0")
            )
    return keys


def _as_bytes(value: Any) -> bytes | None:
    if isinstance(value, bytes | memoryview):
        return bytes(value)
    if isinstance(value, str) and value.startswith("\\x"):
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            return None
    return None


def _openers() -> list[tuple[str, Callable[[bytes], bytes]]]:
    from nacl.public import PrivateKey, SealedBox

    openers: list[tuple[str, Callable[[bytes], bytes]]] = []
    for n, key in enumerate(_candidate_keys()):
        box = SealedBox(PrivateKey(key))
        openers.append((f"sealed box under server key {n}", box.decrypt))
    for n, key in enumerate(settings.FIELD_ENCRYPTION_KEYS):
        openers.append((f"Fernet field key {n}", Fernet(key).decrypt))
    return openers


def _ranking(value: Any, possible: set[tuple[int, ...]]) -> tuple[int, ...] | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    if isinstance(value, list) and all(isinstance(v, int) for v in value):
        return tuple(value) if tuple(value) in possible else None
    return None


def _read(backup: Backup, possible: set[tuple[int, ...]]) -> None:
    """Mark every row that holds a readable ranking, opening what the server's keys open."""
    openers = _openers()
    for table, rows in backup.rows.items():
        for row in rows:
            if table == MARKS:
                continue
            for value in row.values.values():
                found = _ranking(value, possible)
                data = _as_bytes(value)
                if data is None and isinstance(value, str) and table == "django_session":
                    try:
                        found = found or _search(SessionStore().decode(value), possible)
                    except Exception:  # noqa: S112 - not a session the key opens
                        continue
                if data is not None:
                    for name, opener in openers:
                        try:
                            plain = opener(data)
                        except Exception:  # noqa: S112 - the key does not open it
                            continue
                        backup.decrypted.append(f"{table}: {name}")
                        found = found or _search(plain, possible)
                if found:
                    row.ranking = found


def _search(data: Any, possible: set[tuple[int, ...]]) -> tuple[int, ...] | None:
    text = data.decode(errors="replace") if isinstance(data, bytes) else json.dumps(data)
    for ranking in possible:
        if json.dumps(list(ranking)) in text or ",".join(map(str, ranking)) in text:
            return ranking
    return None


# --- the attacker's pairings ----------------------------------------------------------

Guesses = dict[int, tuple[int, ...] | None]


def _marks(backup: Backup, vote_id: int) -> list[Row]:
    return [r for r in backup.rows.get(MARKS, []) if str(r.values["vote_id"]) == str(vote_id)]


def _readable(backup: Backup) -> list[Row]:
    return [r for rows in backup.rows.values() for r in rows if r.ranking is not None]


def _member(mark: Row) -> int:
    return int(mark.values["member_id"])


def _pair_in_order(marks: list[Row], ballots: list[Row], key: Callable[[Row], Any]) -> Guesses:
    marks = sorted(marks, key=key)
    ballots = sorted(ballots, key=key)
    return {_member(m): b.ranking for m, b in zip(marks, ballots, strict=False)}


def _nearest(marks: list[Row], ballots: list[Row], number: Callable[[Row], Any]) -> Guesses:
    guesses: Guesses = {}
    ballots = [b for b in ballots if number(b) is not None]
    for mark in marks:
        if number(mark) is None or not ballots:
            continue
        best = min(ballots, key=lambda b: abs(number(b) - number(mark)))
        guesses[_member(mark)] = best.ranking
    return guesses


def _when(value: Any) -> float | None:
    if not isinstance(value, str) or len(value) < 19:
        return None
    try:
        return datetime.fromisoformat(value.replace(" ", "T")).timestamp()
    except ValueError:
        return None


def _times(row: Row) -> list[float]:
    return [t for t in map(_when, row.values.values()) if t is not None]


def strategies_within(backup: Backup, vote_id: int) -> dict[str, Guesses]:
    marks, ballots = _marks(backup, vote_id), _readable(backup)
    found: dict[str, Guesses] = {}
    if connection.vendor == "postgresql":
        found["same transaction (xmin)"] = {
            _member(m): next((b.ranking for b in ballots if b.xid == m.xid), None) for m in marks
        }
        found["nearest transaction id"] = _nearest(marks, ballots, lambda r: r.xid)
    else:
        found["same rowid"] = {
            _member(m): next((b.ranking for b in ballots if b.physical == m.physical), None)
            for m in marks
        }
        found["nearest rowid"] = _nearest(marks, ballots, lambda r: r.physical)
    found["order on disk"] = _pair_in_order(marks, ballots, lambda r: r.physical or 0)
    found["order in the backup"] = _pair_in_order(marks, ballots, lambda r: r.position)
    found["order of primary keys"] = _pair_in_order(marks, ballots, lambda r: str(r.values["id"]))
    timed = [b for b in ballots if _times(b)]
    found["nearest time"] = _nearest(
        marks, timed, lambda r: min(_times(r), default=None) if _times(r) else None
    )
    return found


def _linked_rows(backup: Backup, vote_id: int) -> list[tuple[Row, Row]]:
    """(mark, row) for every row of the open backup written with a voted mark: the same
    transaction on PostgreSQL, the same rowid in a vote table on SQLite."""
    marks = _marks(backup, vote_id)
    pairs = []
    for table, rows in backup.rows.items():
        if table == MARKS or not table.startswith("votes_"):
            continue
        for row in rows:
            if str(row.values.get("vote_id")) != str(vote_id):
                continue
            for mark in marks:
                same = (
                    row.xid == mark.xid
                    if connection.vendor == "postgresql"
                    else row.physical == mark.physical
                    and table not in ("votes_voteroll", "votes_voteoption")
                )
                if same:
                    pairs.append((mark, row))
    return pairs


def strategies_across(opened: Backup, counted: Backup, vote_id: int) -> dict[str, Guesses]:
    """Link a mark to a row written with it while the vote was open, then that row to a
    readable ballot of the later backup."""
    pairs = _linked_rows(opened, vote_id)
    ballots = _readable(counted)
    found: dict[str, Guesses] = {}
    for name, key in (
        ("order on disk, open vs counted", lambda r: r.physical or 0),
        ("order in the backup, open vs counted", lambda r: r.position),
    ):
        earlier = sorted(pairs, key=lambda p: key(p[1]))
        later = sorted(ballots, key=key)
        found[name] = {_member(m): b.ranking for (m, _r), b in zip(earlier, later, strict=False)}
    shared: Guesses = {}
    for mark, row in pairs:
        values = {str(v) for k, v in row.values.items() if k != "vote_id" and v not in (None, "")}
        for ballot in ballots:
            if values & {str(v) for k, v in ballot.values.items() if k != "vote_id"}:
                shared[_member(mark)] = ballot.ranking
    found["a value shared by the two backups"] = shared
    return found


def _correct(guesses: Guesses, truth: dict[int, tuple[int, ...]]) -> int:
    return sum(1 for member, ranking in guesses.items() if ranking and truth[member] == ranking)


def _rankings() -> list[tuple[int, ...]]:
    return list(itertools.permutations(range(1, 6), 3))  # 60 different rankings


def _leaks(strategies: dict[str, Guesses], truth: dict[int, tuple[int, ...]]) -> dict[str, int]:
    scores = {name: _correct(guesses, truth) for name, guesses in strategies.items()}
    return {name: score for name, score in scores.items() if score > BY_CHANCE}


def test_no_backup_links_a_voter_to_her_ballot_even_with_every_server_key(
    make_vote, bamako, tmp_path
):
    voters = MemberFactory.create_batch(VOTERS, branch=bamako)
    vote = make_vote(options=["Awa", "Bintou", "Coumba", "Djeneba", "Fanta"])
    rankings = _rankings()
    truth = {}
    assert not connection.in_atomic_block  # each cast commits on its own, as in production
    for voter, ranking in zip(voters, rankings, strict=True):
        casting.cast_ballot(vote=vote, member=voter, choices=list(ranking))
        truth[voter.pk] = ranking
    possible = set(rankings)

    def take() -> Backup:
        backup = _pg_backup() if connection.vendor == "postgresql" else _sqlite_backup(tmp_path)
        _read(backup, possible)
        return backup

    opened = take()
    assert len(_marks(opened, vote.pk)) == VOTERS
    assert not opened.decrypted, opened.decrypted[:3]
    leaks = _leaks(strategies_within(opened, vote.pk), truth)
    assert not leaks, f"while the vote is open, correct pairings out of {VOTERS}: {leaks}"

    assert count_now(vote) == VoteStatus.PUBLISHED
    counted = take()
    assert len(_readable(counted)) == VOTERS  # the published ballots, readable by anyone
    assert not counted.decrypted, counted.decrypted[:3]
    leaks = _leaks(strategies_within(counted, vote.pk), truth)
    assert not leaks, f"after the count, correct pairings out of {VOTERS}: {leaks}"
    leaks = _leaks(strategies_across(opened, counted, vote.pk), truth)
    assert not leaks, f"two backups side by side, correct pairings out of {VOTERS}: {leaks}"
