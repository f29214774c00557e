"""Import of a register file: the project's import path against PostgreSQL COPY.

Every measured run happens inside a transaction that is rolled back, followed by a
VACUUM, so each run starts from the same table (the seeded members) and the runs can be
repeated. Baselines, on the same file and the same table:

- COPY into union_member: the file turned beforehand (not timed) into union_member's own
  columns (branch ids, uuids, timestamps, a phone hash where there is a phone so the
  unique phone index does the same work; plain text, no encryption), then one COPY
  straight into the table. The fastest way PostgreSQL has to get these rows in.
- COPY file + INSERT…SELECT: the file itself COPYed into a staging table, then one
  INSERT ... SELECT into union_member resolving branch codes (and hashing phones with
  sha256(), so the unique phone index does the same work). No validation, no encryption.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

from union.models import Branch, Member
from union.services.imports import import_register, preview_register_import


@dataclass
class Timing:
    """Wall-clock seconds per run, and CPU seconds (this process + its PostgreSQL backend).

    On a shared machine wall time swings with other people's load; CPU time much less, so
    both are kept and both ratios are printed.
    """

    label: str
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def add(self, sample: tuple[float, float]) -> None:
        self.seconds.append(sample[0])
        self.cpu.append(sample[1])

    @property
    def best(self) -> float:
        return min(self.seconds)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu) if self.cpu else float("nan")


def _backend_cpu() -> float:
    """CPU seconds used so far by this connection's PostgreSQL backend (Linux /proc)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    # utime and stime are fields 14 and 15 of stat(5); index 11 and 12 after the name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Rollback(Exception):
    pass


def _vacuum() -> None:
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE union_member, union_memberstatuschange, union_branch")


def _timed_and_rolled_back(run: Callable[[], None]) -> tuple[float, float]:
    """(wall, CPU) seconds of `run` inside a transaction, then undo everything it wrote."""
    backend_before = _backend_cpu()
    cpu_before = time.process_time()
    start = time.perf_counter()
    try:
        with transaction.atomic():
            run()
            elapsed = time.perf_counter() - start
            cpu = time.process_time() - cpu_before
            raise _Rollback
    except _Rollback:
        pass
    cpu += _backend_cpu() - backend_before
    _vacuum()
    return elapsed, cpu


def _resolved_copy_file(data: bytes) -> bytes:
    """The register in union_member's own columns, as COPY text. Prepared before timing."""
    branches = dict(Branch.objects.values_list("code", "id"))
    now = timezone.now().isoformat()
    out = io.StringIO()
    writer = csv.writer(out)
    for row in csv.DictReader(io.StringIO(data.decode())):
        writer.writerow(
            [
                str(uuid.uuid4()),
                row["number"],
                branches[row["branch"]],
                row["working_name"],
                row["legal_name"],
                row["phone"],
                # The same index work as the import: a hash wherever there is a phone.
                hashlib.sha256(row["phone"].encode()).hexdigest() if row["phone"] else "",
                row["email"],
                row["notes"],
                row["preferred_language"],
                row["contact_preference"],
                row["consent_sms"] == "1",
                row["consent_crisis_contact"] == "1",
                row["status"],
                now,
                row["joined_on"],
                now,
                "import",
            ]
        )
    return out.getvalue().encode()


DIRECT_COLUMNS = (
    "public_id, number, branch_id, working_name, legal_name, phone, phone_hash, email, notes, "
    "preferred_language, contact_preference, consent_sms, consent_crisis_contact, status, "
    "status_changed_at, joined_on, applied_at, source"
)


def copy_direct(resolved: bytes) -> None:
    with (
        connection.cursor() as cursor,
        cursor.copy(
            f"COPY union_member ({DIRECT_COLUMNS}) FROM STDIN "
            "WITH (FORMAT csv, FORCE_NOT_NULL (legal_name, phone, email, notes))"
        ) as copy,
    ):
        copy.write(resolved)


def copy_staged(data: bytes) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMPORARY TABLE bench_register (number text, working_name text, "
            "branch text, status text, joined_on date, legal_name text, phone text, "
            "email text, preferred_language text, contact_preference text, consent_sms text, "
            "consent_crisis_contact text, notes text) ON COMMIT DROP"
        )
        with cursor.copy(
            "COPY bench_register FROM STDIN WITH (FORMAT csv, HEADER true, FORCE_NOT_NULL "
            "(legal_name, phone, email, notes, preferred_language, contact_preference))"
        ) as copy:
            copy.write(data)
        cursor.execute(
            f"INSERT INTO union_member ({DIRECT_COLUMNS}) "  # noqa: S608 (constants only)
            "SELECT gen_random_uuid(), r.number, b.id, r.working_name, r.legal_name, r.phone, "
            "CASE WHEN r.phone <> '' THEN encode(sha256(convert_to(r.phone, 'UTF8')), 'hex') END, "
            "r.email, r.notes, r.preferred_language, r.contact_preference, r.consent_sms = '1', "
            "r.consent_crisis_contact = '1', r.status, now(), r.joined_on, now(), 'import' "
            "FROM bench_register r JOIN union_branch b ON b.code = r.branch"
        )


def run(*, data: bytes, actor: object, repeat: int, rows: int) -> dict[str, Timing]:
    resolved = _resolved_copy_file(data)
    timings = {
        "copy_direct": Timing("PostgreSQL COPY into union_member (pre-resolved rows)"),
        "copy_staged": Timing("PostgreSQL COPY of the file + INSERT…SELECT"),
        "preview": Timing("Project preview (read + validate, no write)"),
        "import": Timing("Project import (read, validate, encrypt, write, history)"),
    }

    def project_import() -> None:
        _check(import_register(actor=actor, data=data, filename="register.csv"), rows)

    def project_preview() -> None:
        plan = preview_register_import(actor=actor, data=data, filename="register.csv")
        if plan.error_rows:
            raise SystemExit(f"bench file has {len(plan.error_rows)} invalid rows")

    # Interleaved, so that a burst of load from elsewhere hits every contender alike.
    for _ in range(repeat):
        timings["copy_direct"].add(_timed_and_rolled_back(lambda: copy_direct(resolved)))
        timings["copy_staged"].add(_timed_and_rolled_back(lambda: copy_staged(data)))
        timings["import"].add(_timed_and_rolled_back(project_import))
        timings["preview"].add(_timed_and_rolled_back(project_preview))
    return timings


def _check(outcome: object, rows: int) -> None:
    created = getattr(outcome, "created", None)
    if created != rows:
        raise SystemExit(f"import created {created} members, expected {rows}")


def time_reimport(*, data: bytes, actor: object, repeat: int, rows: int) -> Timing:
    """Importing a register whose members are all in the table already: every row an update."""
    timing = Timing("Project re-import of the seeded register (all updates)")

    def go() -> None:
        outcome = import_register(actor=actor, data=data, filename="register.csv")
        if outcome.updated != rows or outcome.created:
            raise SystemExit(f"re-import: {outcome}")

    for _ in range(repeat):
        timing.add(_timed_and_rolled_back(go))
    return timing


def time_orm_writer(*, data: bytes, actor: object) -> float:
    """The portable writer (bulk_create, as on SQLite) on the same PostgreSQL, for comparison."""
    return _timed_and_rolled_back(
        lambda: import_register(actor=actor, data=data, filename="register.csv", method="orm")
    )[0]


def time_stock_import_export(*, data: bytes, sample: int) -> float:
    """Stock django-import-export (ModelResource.import_data) on the first `sample` rows.

    A reference point only: it neither normalises nor hashes phones nor checks anything
    beyond the model, so it does less than the project's path.
    """
    from import_export import fields, resources, widgets

    class StockMemberResource(resources.ModelResource):
        branch = fields.Field(
            attribute="branch",
            column_name="branch",
            widget=widgets.ForeignKeyWidget(Branch, "code"),
        )

        class Meta:
            model = Member
            import_id_fields = ("number",)
            fields = (
                "number",
                "working_name",
                "branch",
                "status",
                "joined_on",
                "legal_name",
                "phone",
                "email",
                "preferred_language",
                "contact_preference",
                "consent_sms",
                "consent_crisis_contact",
                "notes",
            )

        def before_save_instance(self, instance, row, **kwargs):  # type: ignore[no-untyped-def]
            instance.source = "import"

    import tablib

    lines = data.decode().splitlines(keepends=True)
    dataset = tablib.Dataset().load("".join(lines[: sample + 1]), format="csv")

    def go() -> None:
        result = StockMemberResource().import_data(dataset, dry_run=False, raise_errors=True)
        if result.has_errors() or result.has_validation_errors():
            raise SystemExit("stock import-export reported errors")

    return _timed_and_rolled_back(go)[0]


def count_members() -> int:
    return Member.objects.count()
