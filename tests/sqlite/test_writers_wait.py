"""On the embedded default a write waits for the one before it rather than failing.

SQLite lets one writer in at a time. A vote's last hour or the first of the month brings
many at once; each must wait its turn (up to 20 s, under gunicorn's 30 s timeout), not
answer "database is locked" after 5 s, as it did when a slow write held the lock that long.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from union.models import Branch

pytestmark = [pytest.mark.embedded, pytest.mark.vendor("sqlite")]

HELD_S = 6.0  # longer than the 5 s SQLite wait that Python and the old settings gave


@pytest.mark.django_db(transaction=True)
def test_a_write_waits_for_a_long_one_to_finish():
    holding = threading.Event()
    errors: list[BaseException] = []

    def hold_the_lock() -> None:
        try:
            with transaction.atomic():  # BEGIN IMMEDIATE: the write lock, at once
                Branch.objects.create(code="HELD", name="Held")
                holding.set()
                time.sleep(HELD_S)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
            holding.set()
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_lock)
    holder.start()
    assert holding.wait(10)
    started = time.monotonic()
    Branch.objects.create(code="WAITED", name="Waited")
    waited = time.monotonic() - started
    holder.join(30)
    assert not errors
    assert waited >= HELD_S - 1  # it did wait for the other write
    assert set(
        Branch.objects.filter(code__in=["HELD", "WAITED"]).values_list("code", flat=True)
    ) == {
        "HELD",
        "WAITED",
    }
