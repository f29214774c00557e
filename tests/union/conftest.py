"""Fixtures of the core's tests, on top of tests/conftest.py's personas."""

from __future__ import annotations

import pytest
from django.db import connection

from union.append_only import ROTATION_ROLE


@pytest.fixture
def rotation_role(db) -> str:
    """On PostgreSQL, the key-rotation database role (docs/deploy.md), with the rights the
    rotation needs; created inside the test's transaction, so it is gone afterwards. The
    test database's own user may SET ROLE to it (a superuser may). Nothing on SQLite."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [ROTATION_ROLE])
            if cursor.fetchone() is None:
                cursor.execute(f"CREATE ROLE {ROTATION_ROLE} NOLOGIN")
            cursor.execute(
                f"GRANT SELECT, UPDATE ON ALL TABLES IN SCHEMA public TO {ROTATION_ROLE}"
            )
    return ROTATION_ROLE
