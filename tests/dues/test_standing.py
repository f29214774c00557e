"""Good standing, lapsing and reinstatement.

Good standing: active and nothing unpaid from before the branch's grace window (3 months
in Bamako). A member who falls further behind lapses when the monthly run passes; paying
makes them active again. The status history shows both, authored by the system.
"""

from __future__ import annotations

import threading
import time

import pytest
import time_machine
from django.db import connection, transaction

from dues import money, selectors
from dues.services import ledger, runs
from dues.services.common import lock_member
from tests.dues.conftest import JOINED, charge, pay
from tests.factories import MemberFactory
from union.models import AuditAction, AuditEvent, MemberStatus, MemberStatusChange

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

MID_NOVEMBER = "2026-11-15 12:00:00+00:00"


@pytest.fixture
def members(bamako, bko_plan):
    return {
        "paid": MemberFactory(branch=bamako, joined_on=JOINED, working_name="Paid Up"),
        "three_behind": MemberFactory(branch=bamako, joined_on=JOINED, working_name="Three"),
        "four_behind": MemberFactory(branch=bamako, joined_on=JOINED, working_name="Four"),
    }


@time_machine.travel(MID_NOVEMBER, tick=False)
def test_good_standing_allows_the_grace_months_and_no_more(treasurer, members, bamako):
    charge(bamako, "2026-07", "2026-08", "2026-09", "2026-10", "2026-11")
    pay(treasurer, members["paid"], 5000, "R1")
    pay(treasurer, members["three_behind"], 1000, "R2")  # July paid: Aug-Nov open
    # four_behind owes July onwards: July is before the grace window (Aug, Sep, Oct).
    assert selectors.is_in_good_standing(members["paid"])
    assert selectors.is_in_good_standing(members["three_behind"])
    assert not selectors.is_in_good_standing(members["four_behind"])
    standing = set(selectors.members_in_good_standing().filter(branch=bamako))
    assert members["paid"] in standing
    assert members["three_behind"] in standing
    assert members["four_behind"] not in standing


@time_machine.travel(MID_NOVEMBER, tick=False)
def test_the_set_based_version_agrees_with_the_one_member_version(treasurer, bamako, bko_plan):
    people = [MemberFactory(branch=bamako, joined_on=JOINED) for _ in range(8)]
    charge(bamako, "2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11")
    for i, person in enumerate(people):
        if i:
            pay(treasurer, person, 1000 * i, f"R{i}")
    suspended = people[-1]
    suspended.status = MemberStatus.SUSPENDED
    suspended.save(update_fields=["status"])
    from union.models import Member

    members = Member.objects.filter(pk__in=[p.pk for p in people])
    in_set = set(selectors.members_in_good_standing(members).values_list("pk", flat=True))
    for person in people:
        assert (person.pk in in_set) == selectors.is_in_good_standing(person)
    assert suspended.pk not in in_set


def test_members_without_a_plan_are_in_good_standing_when_active(segou):
    person = MemberFactory(branch=segou)
    assert selectors.is_in_good_standing(person)


def test_a_member_behind_beyond_grace_lapses_and_paying_reinstates_them(treasurer, members, bamako):
    awa = members["four_behind"]
    with time_machine.travel(MID_NOVEMBER, tick=False):
        charge(bamako, "2026-07", "2026-08", "2026-09", "2026-10", "2026-11")
        assert runs.lapse_members_in_arrears(branch=bamako) == 3  # everyone: nobody paid
        awa.refresh_from_db()
        assert awa.status == MemberStatus.LAPSED
        assert not selectors.is_in_good_standing(awa)

        # Paying July is enough to be back within the grace window.
        pay(treasurer, awa, 1000, "R1")
        awa.refresh_from_db()
        assert awa.status == MemberStatus.ACTIVE
        assert selectors.is_in_good_standing(awa)

    history = list(MemberStatusChange.objects.filter(member=awa).order_by("id"))
    assert [(h.from_status, h.to_status) for h in history[-2:]] == [
        (MemberStatus.ACTIVE, MemberStatus.LAPSED),
        (MemberStatus.LAPSED, MemberStatus.ACTIVE),
    ]
    assert all(h.changed_by_id is None for h in history[-2:])  # the system, not an officer


@time_machine.travel(MID_NOVEMBER, tick=False)
def test_a_waiver_reinstates_and_a_correction_can_lapse_again(treasurer, members, bamako):
    awa = members["four_behind"]
    charge(bamako, "2026-07", "2026-08", "2026-09", "2026-10", "2026-11")
    runs.lapse_members_in_arrears(branch=bamako)
    waiver = ledger.grant_waiver(actor=treasurer.user, member=awa, amount=1000, reason="ill")
    awa.refresh_from_db()
    assert awa.status == MemberStatus.ACTIVE
    ledger.reverse_entry(actor=treasurer.user, entry=waiver, reason="granted by mistake")
    awa.refresh_from_db()
    assert awa.status == MemberStatus.LAPSED


@time_machine.travel(MID_NOVEMBER, tick=False)
def test_lapsed_members_are_not_charged_and_lapsing_twice_changes_nothing(members, bamako):
    charge(bamako, "2026-07", "2026-08", "2026-09", "2026-10")
    runs.lapse_members_in_arrears(branch=bamako)
    assert runs.lapse_members_in_arrears(branch=bamako) == 0
    result = runs.charge_period(period=money.parse_period("2026-11"), branch=bamako)
    assert result.charged == 0
    assert MemberStatusChange.objects.filter(to_status=MemberStatus.LAPSED).count() == 3


@time_machine.travel(MID_NOVEMBER, tick=False)
def test_a_member_lapsed_by_the_monthly_run_keeps_her_login(client, bamako, bko_plan):
    """Lapsing ends no membership right that a login guards (suspension does: union)."""
    from django.urls import reverse

    from tests.factories import PASSWORD

    awa = MemberFactory(branch=bamako, joined_on=JOINED, with_login=True)
    client.post(reverse("union:login"), {"username": awa.number, "password": PASSWORD})
    charge(bamako, "2026-07", "2026-08", "2026-09", "2026-10")
    assert runs.lapse_members_in_arrears(branch=bamako) == 1
    awa.refresh_from_db()
    assert awa.status == MemberStatus.LAPSED and awa.user.is_active
    assert client.get(reverse("union:profile")).status_code == 200


@time_machine.travel(MID_NOVEMBER, tick=False)
def test_lapsing_goes_by_chunks_with_history_and_audit_for_each_member(
    members, bamako, monkeypatch, django_assert_max_num_queries
):
    more = [MemberFactory(branch=bamako, joined_on=JOINED) for _ in range(4)]
    charge(bamako, "2026-07", "2026-08", "2026-09", "2026-10")
    monkeypatch.setattr(runs, "LAPSE_CHUNK", 3)
    # Per chunk: lock, check again, history, status, audit, savepoint and its release; three
    # chunks and the empty one that ends the run. Not per member.
    with django_assert_max_num_queries(2 + 4 * 7):
        assert runs.lapse_members_in_arrears(branch=bamako) == 7
    everyone = [*members.values(), *more]
    for person in everyone:
        person.refresh_from_db()
        assert person.status == MemberStatus.LAPSED
        change = MemberStatusChange.objects.get(member=person)
        assert (change.from_status, change.to_status, change.changed_by_id) == (
            MemberStatus.ACTIVE,
            MemberStatus.LAPSED,
            None,
        )
        assert change.reason == "Cotisations impayées au-delà des mois de grâce."  # Bamako's
        assert person.status_changed_at == change.changed_at
    audited = AuditEvent.objects.filter(action=AuditAction.MEMBER_STATUS, branch=bamako)
    assert sorted(audited.values_list("target", flat=True)) == sorted(
        f"member:{p.public_id}" for p in everyone
    )


def _wait_for_a_lock_wait(timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # else read once per transaction
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.02)
    raise AssertionError("the lapsing run never waited for the member's lock")


@pytest.mark.vendor("postgresql")  # pg_stat_activity; the SQLite twin is in tests/sqlite/
@pytest.mark.django_db(transaction=True)
def test_a_payment_committed_while_lapsing_waits_for_its_lock_counts(treasurer, members, bamako):
    awa = members["four_behind"]
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
            lock_member(awa.pk)
            pay(treasurer, awa, 1000, "R1")  # July paid: back within the grace months
            thread.start()
            _wait_for_a_lock_wait()  # the run has chosen Awa and waits for her lock
        thread.join(timeout=30)
    assert outcome["lapsed"] == 2  # the two others
    awa.refresh_from_db()
    assert awa.status == MemberStatus.ACTIVE
    assert not MemberStatusChange.objects.filter(member=awa, to_status=MemberStatus.LAPSED)
