"""Apply an import plan in bulk. Call inside a transaction, with the plan's branches locked.

On PostgreSQL new members are streamed with COPY straight into the member table (ids are
reserved from its sequence first, so their status history can be streamed too) and
updates go through COPY into a temporary table and one UPDATE ... FROM. Encryption happens
while the rows stream, so the database ingests one batch while Python encrypts the next.
Elsewhere (SQLite, the embedded default) the same plan is written with bulk_create and
bulk_update. Either way the cost is a few statements, not a few per row.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.db import connection
from django.utils import timezone

from union import crypto
from union.imports.plan import ImportPlan, PlannedRow, sequenced_number
from union.models import Branch, Member, MemberStatusChange, RegistrationSource

if TYPE_CHECKING:
    from django.contrib.auth.models import User

BATCH = 1000
ENCRYPTED = ("legal_name", "phone", "email", "notes")


@dataclass(frozen=True)
class WriteResult:
    created: int
    updated: int
    status_changes: int


def write_plan(plan: ImportPlan, *, actor: User, method: str = "auto") -> WriteResult:
    """Write the plan's valid rows. `method` is "copy", "orm" or "auto" (COPY on PostgreSQL)."""
    rows = plan.valid_rows
    creates = [r for r in rows if r.member_id is None]
    updates = [r for r in rows if r.member_id is not None]
    now = timezone.now()
    _assign_numbers(plan, creates)
    if method == "auto":
        method = "copy" if connection.vendor == "postgresql" else "orm"
    if method == "copy":
        _copy_creates(plan, creates, actor=actor, now=now)
        _copy_updates(updates, actor=actor, now=now)
    else:
        _orm_creates(plan, creates, actor=actor, now=now)
        _orm_updates(updates, actor=actor, now=now)
    return WriteResult(
        created=len(creates),
        updated=len(updates),
        status_changes=sum(1 for r in updates if r.changes_status),
    )


def _assign_numbers(plan: ImportPlan, creates: list[PlannedRow]) -> None:
    """Give numberless new rows the branch's next numbers; move sequences past imported ones.

    A number like BKO-000120 in the file would otherwise be issued again by the sequence
    to a later applicant, and that approval would fail.
    """
    codes = {b.code: b for b in plan.branches.values()}
    highest: dict[int, int] = {}
    for row in plan.valid_rows:
        parsed = sequenced_number(row.number) if row.number else None
        if parsed is not None and parsed[0] in codes:
            branch_id = codes[parsed[0]].pk
            highest[branch_id] = max(highest.get(branch_id, 0), parsed[1])
    waiting: dict[int, list[PlannedRow]] = defaultdict(list)
    for row in creates:
        if not row.number:
            waiting[row.branch_id].append(row)  # type: ignore[index]
    digits = settings.MEMBERSHIP_NUMBER_DIGITS
    for branch_id in sorted(set(highest) | set(waiting)):
        locked = Branch.objects.select_for_update().get(pk=branch_id)
        seq = max(locked.next_member_seq, highest.get(branch_id, 0) + 1)
        pending = waiting.get(branch_id, [])
        while pending:
            candidates = [f"{locked.code}-{s:0{digits}d}" for s in range(seq, seq + len(pending))]
            seq += len(pending)
            # Numbers typed by hand in an older register may sit above the sequence.
            used = set(
                Member.objects.filter(number__in=candidates).values_list("number", flat=True)
            )
            free = [n for n in candidates if n not in used]
            for row, number in zip(pending, free, strict=False):
                row.number = number
            pending = pending[len(free) :]
        if seq != locked.next_member_seq:
            Branch.objects.filter(pk=branch_id).update(next_member_seq=seq)


NULL = "\\N"  # COPY text format's NULL
_COPY_SPECIAL = re.compile(r"[\\\t\n\r]")


def _text(value: str) -> str:
    """A value for COPY text format; escaping is almost never needed (see the callers)."""
    if _COPY_SPECIAL.search(value) is None:
        return value
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _flag(value: bool | None) -> str:
    return NULL if value is None else ("t" if value else "f")


def _sealer() -> Any:
    """crypto.encrypt with the key set looked up once, not once per value."""
    encrypt = crypto.fernet().encrypt

    def seal(value: str) -> str:
        return encrypt(value.encode()).decode("ascii")

    return seal


def _columns(model: Any, names: list[str]) -> list[str]:
    return [model._meta.get_field(name).column for name in names]


def _quoted(columns: list[str]) -> str:
    return ", ".join(connection.ops.quote_name(c) for c in columns)


MEMBER_FIELDS = [
    "id",
    "public_id",
    "number",
    "branch",
    "working_name",
    "legal_name",
    "phone",
    "phone_hash",
    "email",
    "notes",
    "preferred_language",
    "contact_preference",
    "consent_sms",
    "consent_crisis_contact",
    "status",
    "status_changed_at",
    "joined_on",
    "applied_at",
    "source",
]
HISTORY_FIELDS = ["member", "from_status", "to_status", "reason", "changed_by", "changed_at"]
UPDATE_FIELDS = [
    "branch",
    "working_name",
    "legal_name",
    "phone",
    "phone_hash",
    "email",
    "notes",
    "preferred_language",
    "contact_preference",
    "consent_sms",
    "consent_crisis_contact",
    "status",
    "joined_on",
]


def _default_language(branch: Branch) -> str:
    known = {code for code, _name in settings.LANGUAGES}
    for code in branch.languages or []:
        if code in known:
            return code
    return settings.LANGUAGE_CODE


def _copy_creates(
    plan: ImportPlan, creates: list[PlannedRow], *, actor: User, now: datetime
) -> None:
    if not creates:
        return
    table = Member._meta.db_table
    languages = {pk: _default_language(b) for pk, b in plan.branches.items()}
    today = timezone.localdate()
    seal = _sealer()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, len(creates)],
        )
        ids = [r[0] for r in cursor.fetchall()]
        member_sql = (
            f"COPY {connection.ops.quote_name(table)} "
            f"({_quoted(_columns(Member, MEMBER_FIELDS))}) FROM STDIN"
        )
        stamp = now.isoformat()
        source = RegistrationSource.IMPORT.value
        with cursor.copy(member_sql) as copy:
            lines: list[str] = []
            for member_id, row in zip(ids, creates, strict=True):
                # COPY text format, built by hand: psycopg's write_row costs several times
                # more per row. Only the number and the working name come from the file
                # as typed, and both are validated free of tabs, newlines and backslashes
                # (_text() makes sure); everything else is a code, a hash or a token.
                lines.append(
                    "\t".join(
                        (
                            str(member_id),
                            uuid.uuid4().hex,
                            _text(row.number),
                            str(row.branch_id),
                            _text(row.working_name),
                            seal(row.legal_name) if row.legal_name else "",
                            seal(row.phone) if row.phone else "",
                            row.phone_hash or NULL,
                            seal(row.email) if row.email else "",
                            seal(row.notes) if row.notes else "",
                            row.preferred_language or languages[row.branch_id],  # type: ignore[index]
                            row.contact_preference or "none",
                            "t" if row.consent_sms else "f",
                            "t" if row.consent_crisis_contact else "f",
                            row.status or "",
                            stamp,
                            (row.joined_on or today).isoformat(),
                            stamp,
                            source,
                        )
                    )
                )
                if len(lines) >= BATCH:
                    copy.write("\n".join(lines) + "\n")
                    lines = []
            if lines:
                copy.write("\n".join(lines) + "\n")
        _history_of_new_members(cursor, ids, actor=actor, now=now)


def _id_ranges(ids: list[int]) -> list[tuple[int, int]]:
    """[1, 2, 3, 7, 8] -> [(1, 3), (7, 8)]: every number in a range is one of ids."""
    ranges: list[tuple[int, int]] = []
    for value in sorted(ids):
        if ranges and value == ranges[-1][1] + 1:
            ranges[-1] = (ranges[-1][0], value)
        else:
            ranges.append((value, value))
    return ranges


def _history_of_new_members(cursor: Any, ids: list[int], *, actor: Any, now: datetime) -> None:
    """The first status history row of every new member, written by the database itself.

    The ids were reserved by this transaction, so they usually form one unbroken range
    and the rows are selected with BETWEEN instead of being sent back one by one.
    """
    q = connection.ops.quote_name
    ranges = _id_ranges(ids)
    if len(ranges) <= 20:
        where = " OR ".join(["m.id BETWEEN %s AND %s"] * len(ranges))
        params: list[Any] = [bound for pair in ranges for bound in pair]
    else:
        where, params = "m.id = ANY(%s)", [ids]
    history = q(MemberStatusChange._meta.db_table)
    columns = _quoted(_columns(MemberStatusChange, HISTORY_FIELDS))
    status = q(_columns(Member, ["status"])[0])
    cursor.execute(
        f"INSERT INTO {history} ({columns}) "  # noqa: S608 (names from the models)
        f"SELECT m.id, '', m.{status}, '', %s, %s FROM {q(Member._meta.db_table)} AS m "
        f"WHERE {where}",
        [actor.pk, now, *params],
    )


def _copy_history(
    cursor: Any, changes: Iterator[tuple[int, str, str | None]], *, actor: Any, now: datetime
) -> None:
    table = MemberStatusChange._meta.db_table
    sql = (
        f"COPY {connection.ops.quote_name(table)} "
        f"({_quoted(_columns(MemberStatusChange, HISTORY_FIELDS))}) FROM STDIN"
    )
    with cursor.copy(sql) as copy:
        for member_id, old, new in changes:
            copy.write_row((member_id, old, new, "", actor.pk, now))


def _copy_updates(updates: list[PlannedRow], *, actor: User, now: datetime) -> None:
    if not updates:
        return
    table = connection.ops.quote_name(Member._meta.db_table)
    temp = connection.ops.quote_name("solidaire_import_update")
    q = connection.ops.quote_name
    cols = dict(zip(UPDATE_FIELDS, _columns(Member, UPDATE_FIELDS), strict=True))
    seal = _sealer()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {temp}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {temp} ("
            "id bigint PRIMARY KEY, branch_id bigint NOT NULL, working_name text NOT NULL, "
            "legal_name text, phone text, phone_hash text, email text, notes text, "
            "preferred_language text, contact_preference text, consent_sms boolean, "
            "consent_crisis_contact boolean, status text, joined_on date"
            ") ON COMMIT DROP"
        )
        with cursor.copy(f"COPY {temp} FROM STDIN") as copy:
            lines: list[str] = []
            for row in updates:
                # NULL means "keep what is stored" (see the UPDATE below).
                lines.append(
                    "\t".join(
                        (
                            str(row.member_id),
                            str(row.branch_id),
                            _text(row.working_name),
                            seal(row.legal_name) if row.legal_name else NULL,
                            seal(row.phone) if row.phone else NULL,
                            row.phone_hash or NULL,
                            seal(row.email) if row.email else NULL,
                            seal(row.notes) if row.notes else NULL,
                            row.preferred_language or NULL,
                            row.contact_preference or NULL,
                            _flag(row.consent_sms),
                            _flag(row.consent_crisis_contact),
                            row.status or NULL,
                            row.joined_on.isoformat() if row.joined_on else NULL,
                        )
                    )
                )
                if len(lines) >= BATCH:
                    copy.write("\n".join(lines) + "\n")
                    lines = []
            if lines:
                copy.write("\n".join(lines) + "\n")
        keep = [
            f"{q(cols[name])} = COALESCE(u.{q(name)}, m.{q(cols[name])})"
            for name in UPDATE_FIELDS
            if name not in ("branch", "working_name", "status")
        ]
        status = q(cols["status"])
        changed_at = q(_columns(Member, ["status_changed_at"])[0])
        cursor.execute(
            f"UPDATE {table} AS m SET "  # noqa: S608 (names from the model, values are params)
            f"{q(cols['branch'])} = u.branch_id, {q(cols['working_name'])} = u.working_name, "
            f"{', '.join(keep)}, "
            f"{status} = COALESCE(u.status, m.{status}), "
            f"{changed_at} = CASE WHEN u.status IS NOT NULL AND u.status <> m.{status} "
            f"THEN %s ELSE m.{changed_at} END "
            f"FROM {temp} AS u WHERE m.id = u.id",
            [now],
        )
        _copy_history(
            cursor,
            ((r.member_id, r.old_status, r.status) for r in updates if r.changes_status),  # type: ignore[misc]
            actor=actor,
            now=now,
        )
        cursor.execute(f"DROP TABLE {temp}")


def _orm_creates(
    plan: ImportPlan, creates: list[PlannedRow], *, actor: User, now: datetime
) -> None:
    if not creates:
        return
    languages = {pk: _default_language(b) for pk, b in plan.branches.items()}
    today = timezone.localdate()
    members = [
        Member(
            number=row.number,
            branch_id=cast(int, row.branch_id),  # valid rows always have both
            working_name=row.working_name,
            legal_name=row.legal_name or "",
            phone=row.phone or "",
            phone_hash=row.phone_hash,
            email=row.email or "",
            notes=row.notes or "",
            preferred_language=row.preferred_language or languages[row.branch_id],  # type: ignore[index]
            contact_preference=row.contact_preference or "none",
            consent_sms=bool(row.consent_sms),
            consent_crisis_contact=bool(row.consent_crisis_contact),
            status=cast(str, row.status),
            status_changed_at=now,
            joined_on=row.joined_on or today,
            applied_at=now,
            source=RegistrationSource.IMPORT,
        )
        for row in creates
    ]
    Member.objects.bulk_create(members, batch_size=BATCH)
    if any(m.pk is None for m in members):  # databases that cannot return new ids
        ids = dict(
            Member.objects.filter(number__in=[m.number for m in members]).values_list(
                "number", "id"
            )
        )
        for m in members:
            m.pk = ids[m.number]
    MemberStatusChange.objects.bulk_create(
        [
            MemberStatusChange(
                member_id=m.pk, from_status="", to_status=m.status, changed_by=actor, changed_at=now
            )
            for m in members
        ],
        batch_size=BATCH,
    )


def _orm_updates(updates: list[PlannedRow], *, actor: User, now: datetime) -> None:
    if not updates:
        return
    members = Member.objects.in_bulk([r.member_id for r in updates])
    history = []
    for row in updates:
        member = members[row.member_id]  # type: ignore[index]
        member.branch_id = row.branch_id  # type: ignore[assignment]
        member.working_name = row.working_name
        for name in (*ENCRYPTED, "phone_hash", "preferred_language", "contact_preference"):
            value = getattr(row, name)
            if value is not None:
                setattr(member, name, value)
        for name in ("consent_sms", "consent_crisis_contact", "joined_on"):
            value = getattr(row, name)
            if value is not None:
                setattr(member, name, value)
        if row.changes_status:
            history.append(
                MemberStatusChange(
                    member=member,
                    from_status=row.old_status,
                    to_status=cast(str, row.status),
                    changed_by=actor,
                    changed_at=now,
                )
            )
            member.status = row.status  # type: ignore[assignment]
            member.status_changed_at = now
    Member.objects.bulk_update(
        list(members.values()), [*UPDATE_FIELDS, "status_changed_at"], batch_size=BATCH
    )
    MemberStatusChange.objects.bulk_create(history, batch_size=BATCH)
