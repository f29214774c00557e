"""What importing a register would do: the file's rows as planned rows, and the preview.

build_plan reads the sheet into one PlannedRow per data row and runs the checks (in
union.imports.checks) over them, in one pass over the rows plus a handful of set-based
queries. Nothing is written: the ImportPlan it returns is what the preview shows and what
the writer applies once the officer confirms.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import TYPE_CHECKING

from union.imports import checks
from union.models import Branch, MemberStatus

if TYPE_CHECKING:
    from union.imports.reading import Sheet
    from union.permissions import Scope

_SEQUENCED_NUMBER = re.compile(r"^([A-Z]{2,8})-(\d{1,9})$")


@dataclass(slots=True, eq=False)
class PlannedRow:
    """One data row of the file and what importing it would do.

    For the optional fields None means "not given": on an update the stored value stays.
    """

    line: int
    number: str
    working_name: str
    branch_code: str
    errors: list[str] = field(default_factory=list)
    branch_id: int | None = None
    member_id: int | None = None
    old_status: str = ""
    status: str | None = None
    joined_on: date | None = None
    legal_name: str | None = None
    phone: str | None = None
    phone_hash: str | None = None
    email: str | None = None
    notes: str | None = None
    preferred_language: str | None = None
    contact_preference: str | None = None
    consent_sms: bool | None = None
    consent_crisis_contact: bool | None = None

    @property
    def is_valid(self) -> bool:
        return not self.errors

    @property
    def is_update(self) -> bool:
        return self.member_id is not None

    @property
    def changes_status(self) -> bool:
        """A status history row is written: every new member, and every real change."""
        if self.member_id is None:
            return True
        return self.status is not None and self.status != self.old_status

    @property
    def status_label(self) -> str:
        value = self.status or self.old_status
        return str(MemberStatus(value).label) if value in MemberStatus.values else ""

    @property
    def old_status_label(self) -> str:
        return str(MemberStatus(self.old_status).label) if self.old_status else ""


@dataclass
class ImportPlan:
    rows: list[PlannedRow]
    ignored_headers: list[str]
    columns: set[str]
    branches: dict[int, Branch]

    @cached_property
    def valid_rows(self) -> list[PlannedRow]:
        return [r for r in self.rows if not r.errors]

    @cached_property
    def signature(self) -> str:
        """Which rows would be imported, and how: compared between preview and confirmation."""
        digest = hashlib.sha256()
        for r in self.valid_rows:
            digest.update(f"{r.line}:{r.member_id or ''}:{r.status or ''};".encode())
        return digest.hexdigest()

    @cached_property
    def error_rows(self) -> list[PlannedRow]:
        return [r for r in self.rows if r.errors]

    @cached_property
    def creates(self) -> int:
        return sum(1 for r in self.valid_rows if r.member_id is None)

    @cached_property
    def updates(self) -> int:
        return sum(1 for r in self.valid_rows if r.member_id is not None)

    @cached_property
    def status_changes(self) -> int:
        return sum(1 for r in self.valid_rows if r.member_id is not None and r.changes_status)

    @cached_property
    def branch_ids(self) -> set[int]:
        return {r.branch_id for r in self.valid_rows if r.branch_id is not None}


def build_plan(
    *,
    sheet: Sheet,
    scope: Scope,
    branches: dict[str, Branch],
    default_branch: Branch | None = None,
) -> ImportPlan:
    """Check every row; return what an import would do. Reads the database, never writes.

    `branches` maps codes to every branch (the caller may have locked some of them);
    `scope` is where the acting officer may import.

    The file is checked column by column rather than cell by cell: each pass is a tight
    loop over one column, and words that repeat (statuses, languages, yes/no) are looked
    up once per distinct spelling. It matters at 100,000 rows.
    """
    msg = checks.Messages()
    position = {c: i for i, c in enumerate(sheet.columns) if c}
    lines = [line for line, _cells in sheet.rows]
    transposed = list(zip(*(cells for _line, cells in sheet.rows), strict=True)) or [
        () for _ in sheet.columns
    ]
    empty = ("",) * len(lines)

    def column(name: str) -> tuple[str, ...]:
        i = position.get(name)
        return transposed[i] if i is not None else empty

    rows = [
        PlannedRow(line=line, number=number.upper(), working_name=name, branch_code=code.upper())
        for line, number, name, code in zip(
            lines, column("number"), column("working_name"), column("branch"), strict=True
        )
    ]
    checks.check_identity(
        rows, scope=scope, branches=branches, default_branch=default_branch, msg=msg
    )
    checks.check_words(rows, column, msg=msg)
    checks.check_dates(rows, column("joined_on"), msg=msg)
    checks.check_contact(rows, column, msg=msg)
    checks.flag_duplicates(rows, "number", msg.dup_number)
    checks.flag_duplicates(rows, "phone_hash", msg.dup_phone)
    checks.match_members(rows, scope=scope, msg=msg)
    checks.refuse_same_names(rows, msg=msg)
    checks.check_reachability(rows, msg=msg)
    by_id = {b.pk: b for b in branches.values()}
    return ImportPlan(
        rows=rows, ignored_headers=sheet.ignored_headers, columns=set(position), branches=by_id
    )


def sequenced_number(number: str) -> tuple[str, int] | None:
    """('BKO', 42) for 'BKO-000042': numbers in the branch sequence's own format."""
    match = _SEQUENCED_NUMBER.match(number)
    return (match.group(1), int(match.group(2))) if match else None
