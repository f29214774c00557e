"""A copy of the embedded default's database file gives away no personal details.

On SQLite the database *is* a file (var/solidaire.sqlite3 and, while it is in use, its
write-ahead log beside it): copying it is the dump. The PostgreSQL twin, with pg_dump, is
tests/union/test_encryption.py::test_a_database_dump_holds_no_personal_details.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.db import connection

from tests.union import test_encryption as leak

pytestmark = [pytest.mark.embedded, pytest.mark.vendor("sqlite")]


def _database_files() -> bytes:
    path = Path(connection.settings_dict["NAME"])
    assert path.is_file(), "the test database is a file (tests/conftest.py)"
    return b"".join(
        p.read_bytes() for p in (path, path.with_name(f"{path.name}-wal")) if p.exists()
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("sensitive_members")
def test_the_database_file_and_its_log_hold_no_personal_details():
    stored = _database_files()
    assert b"Dump Check One" in stored, "the rows are in the file (working names are not secret)"
    for marker in (
        leak.LEGAL,
        leak.EMAIL,
        leak.NOTES,
        leak.REASON,
        leak.PHONE_DIGITS,
        leak.FACTORY_LEGAL,
        leak.FACTORY_PHONE_DIGITS,
        "zqxfactory@example.org",
        "Zqxfactorynotes",
    ):
        assert marker.encode() not in stored, f"{marker!r} is readable in the database file"
    unkeyed = hashlib.sha256(f"+223{leak.PHONE_DIGITS}".encode()).hexdigest()
    assert unkeyed.encode() not in stored
