"""Lapsing members waits for a payment being recorded, and counts it (SQLite).

The PostgreSQL twin (tests/dues/test_standing.py) watches the run wait for the member's
row lock. SQLite has no row locks: every write transaction begins IMMEDIATE (settings),
so the run cannot start its first chunk while a payment holds the database's write lock,
and once it starts it reads the payment.
"""

from __future__ import annotations

import threading

import pytest
import time_machine
from django.db import connection, transaction

from dues.services import runs
from tests.dues.conftest import JOINED, charge, pay
from tests.factories import MemberFactory
from union.models import MemberStatus, MemberStatusChange

pytestmark = [pytest.mark.embedded, pytest.mark.vendor("sqlite")]

MID_NOVEMBER = "2026-11-15 12:00:00+00:00"


@pytest.mark.django_db(transaction=True)
def test_a_payment_being_recorded_when_lapsing_starts_is_waited_for_and_counts(
    treasurer, bamako, bko_plan
):
    awa = MemberFactory(branch=bamako, joined_on=JOINED, working_name="Awa")
    fanta = MemberFactory(branch=bamako, joined_on=JOINED, working_name="Fanta")
    outcome: dict[str, int] = {}

    def lapse() -> None:
        try:
            outcome["lapsed"] = runs.lapse_members_in_arrears(branch=bamako)
        finally:
            connection.close()

    with time_machine.travel(MID_NOVEMBER, tick=False):
        charge(bamako, "2026-07", "2026-08", "2026-09", "2026-10", "2026-11")
        thread = threading.Thread(target=lapse)
        with transaction.atomic():
            pay(treasurer, awa, 1000, "R1")  # July paid: back within the grace months
            thread.start()
            thread.join(timeout=0.5)
            assert thread.is_alive(), "the run went ahead while a payment was being recorded"
        thread.join(timeout=30)
    assert outcome["lapsed"] == 1
    awa.refresh_from_db()
    fanta.refresh_from_db()
    assert (awa.status, fanta.status) == (MemberStatus.ACTIVE, MemberStatus.LAPSED)
    assert not MemberStatusChange.objects.filter(member=awa, to_status=MemberStatus.LAPSED)
