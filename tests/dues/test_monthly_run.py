"""The monthly run: once per member and month, set-based, in each branch's own time zone."""

from __future__ import annotations

import threading
from datetime import date
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from dues import money
from dues.models import EntryKind, LedgerEntry, Rate
from dues.services import plans, runs
from dues.tasks import run_monthly_dues
from tests.dues.conftest import JOINED, charge
from tests.factories import MemberFactory
from union.models import ContactPreference, MemberStatus, Notification

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

NOVEMBER = date(2026, 11, 1)


def test_every_active_member_is_charged_once(bamako, bko_plan):
    active = [MemberFactory(branch=bamako, joined_on=JOINED) for _ in range(5)]
    MemberFactory(branch=bamako, joined_on=JOINED, status=MemberStatus.SUSPENDED)
    MemberFactory(branch=bamako, applicant=True)
    first = runs.charge_period(period=NOVEMBER, branch=bamako)
    again = runs.charge_period(period=NOVEMBER, branch=bamako)
    assert (first.charged, first.totals) == (5, {"XOF": 5000})
    assert (again.charged, again.totals) == (0, {})
    charges = LedgerEntry.objects.filter(kind=EntryKind.CHARGE, period=NOVEMBER)
    assert sorted(charges.values_list("member_id", flat=True)) == sorted(m.pk for m in active)


def test_the_solidarity_rate_and_the_joining_month_rule(treasurer, bamako, bko_plan):
    reduced = MemberFactory(branch=bamako, joined_on=JOINED)
    plans.set_member_rate(actor=treasurer.user, member=reduced, rate=Rate.SOLIDARITY)
    mid_month = MemberFactory(branch=bamako, joined_on=date(2026, 11, 12))
    on_the_first = MemberFactory(branch=bamako, joined_on=date(2026, 11, 1))
    next_month = MemberFactory(branch=bamako, joined_on=date(2026, 12, 3))

    runs.charge_period(period=NOVEMBER, branch=bamako)
    amounts = dict(LedgerEntry.objects.filter(period=NOVEMBER).values_list("member_id", "amount"))
    assert amounts[reduced.pk] == 500
    assert amounts[mid_month.pk] == 1000  # the plan says joiners pay their first month
    assert amounts[on_the_first.pk] == 1000
    assert next_month.pk not in amounts

    plans.set_dues_plan(
        actor=treasurer.user,
        branch=bamako,
        monthly_amount=1000,
        solidarity_amount=500,
        charge_joining_month=False,
        confirm_threshold=5000,
    )
    december = runs.charge_period(period=date(2026, 12, 1), branch=bamako)
    charged = set(
        LedgerEntry.objects.filter(period="2026-12-01").values_list("member_id", flat=True)
    )
    assert next_month.pk not in charged  # joined on the 3rd, the plan now says no
    assert mid_month.pk in charged
    assert december.charged == len(charged)


def test_the_command_prints_members_and_total_and_dry_run_writes_nothing(
    bamako, johannesburg, bko_plan, jhb_plan
):
    for _ in range(3):
        MemberFactory(branch=bamako, joined_on=JOINED)
    for _ in range(2):
        MemberFactory(branch=johannesburg, joined_on=JOINED)
    out = StringIO()
    call_command("run_dues", "--period", "2026-11", "--dry-run", stdout=out)
    assert "Would charge 5 members for 2026-11: 3000 XOF, 100.00 ZAR" in out.getvalue()
    assert not LedgerEntry.objects.exists()

    out = StringIO()
    call_command("run_dues", "--period", "2026-11", "--branch", "jhb", stdout=out)
    assert "Charged 2 members for 2026-11: 100.00 ZAR" in out.getvalue()
    out = StringIO()
    call_command("run_dues", "--period", "2026-11", stdout=out)
    assert "Charged 3 members for 2026-11: 3000 XOF" in out.getvalue()
    assert LedgerEntry.objects.count() == 5


def test_the_command_refuses_a_bad_month():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("run_dues", "--period", "November")


def test_the_run_is_one_statement_not_a_loop(bamako, bko_plan, django_assert_max_num_queries):
    for _ in range(30):
        MemberFactory(branch=bamako, joined_on=JOINED)
    with django_assert_max_num_queries(6):
        result = runs.charge_period(period=NOVEMBER, branch=bamako)
    assert result.charged == 30


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_create_each_charge_once(bamako, bko_plan):
    members = [MemberFactory(branch=bamako, joined_on=JOINED) for _ in range(40)]
    barrier = threading.Barrier(2)
    outputs: list[str] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            out = StringIO()
            barrier.wait(timeout=10)
            call_command("run_dues", "--period", "2026-11", stdout=out)
            outputs.append(out.getvalue())
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert LedgerEntry.objects.filter(period=NOVEMBER).count() == len(members)
    charged = sorted(int(out.split()[1]) for out in outputs)
    assert sum(charged) == len(members)  # each charge reported by exactly one run


def test_the_beat_job_charges_each_branch_on_its_own_first_of_the_month(
    bamako, johannesburg, bko_plan, jhb_plan
):
    bko = MemberFactory(branch=bamako, joined_on=JOINED)
    jhb = MemberFactory(branch=johannesburg, joined_on=JOINED)
    # 23:30 in Bamako (UTC) on 30 November is 01:30 on 1 December in Johannesburg (UTC+2).
    with time_machine.travel("2026-11-30 23:30:00+00:00", tick=False):
        run_monthly_dues()
    assert LedgerEntry.objects.filter(member=jhb, period="2026-12-01").exists()
    assert not LedgerEntry.objects.filter(member=bko, period="2026-12-01").exists()
    with time_machine.travel("2026-12-01 00:30:00+00:00", tick=False):
        run_monthly_dues()
        run_monthly_dues()  # hourly, idempotent
    assert LedgerEntry.objects.filter(member=bko, period="2026-12-01").count() == 1
    assert LedgerEntry.objects.filter(member=jhb, period="2026-12-01").count() == 1


def test_reminders_go_to_consenting_members_one_month_behind_once(bamako, bko_plan, treasurer):
    def person(name: str, **kwargs: object):
        return MemberFactory(branch=bamako, joined_on=JOINED, working_name=name, **kwargs)

    sms = {
        "contact_preference": ContactPreference.SMS,
        "consent_sms": True,
        "phone": "+22370000001",
    }
    behind = person("Behind", **sms)
    quiet = person("Quiet", contact_preference=ContactPreference.NONE, phone="+22370000002")
    no_consent = person(
        "No consent", contact_preference=ContactPreference.SMS, phone="+22370000003"
    )
    paid = person("Paid", **{**sms, "phone": "+22370000004"})
    with time_machine.travel("2026-11-05 10:00:00+00:00", tick=False):
        charge(bamako, "2026-10", "2026-11")
        from tests.dues.conftest import pay

        pay(treasurer, paid, 2000, "R1")
        assert runs.queue_reminders(branch=bamako) == 1
        assert runs.queue_reminders(branch=bamako) == 1  # queued again: the outbox dedupes
    reminders = Notification.objects.filter(kind="dues_reminder")
    assert list(reminders.values_list("member_id", flat=True)) == [behind.pk]
    assert "2,000\u00a0XOF" in reminders.get().body  # October and November
    for member in (quiet, no_consent, paid):
        assert not Notification.objects.filter(member=member, kind="dues_reminder").exists()


def test_period_arithmetic():
    assert money.add_months(date(2026, 11, 1), 2) == date(2027, 1, 1)
    assert money.add_months(date(2026, 1, 1), -1) == date(2025, 12, 1)
    assert money.parse_period("2026-02") == date(2026, 2, 1)
    assert money.month_end(date(2028, 2, 1)) == date(2028, 2, 29)
    assert money.to_minor(money.Decimal("50.25"), "ZAR") == 5025
    assert money.to_minor(money.Decimal("1000"), "XOF") == 1000
    with pytest.raises(ValueError):
        money.to_minor(money.Decimal("10.5"), "XOF")


def test_reminders_are_written_in_bulk_and_sent_after_commit(
    bamako, bko_plan, monkeypatch, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    people = [
        MemberFactory(
            branch=bamako,
            joined_on=JOINED,
            contact_preference=ContactPreference.SMS,
            consent_sms=True,
            phone=f"+2237000010{i}",
        )
        for i in range(7)
    ]
    sent: list[int] = []
    monkeypatch.setattr(runs, "REMINDER_CHUNK", 3)
    monkeypatch.setattr("union.tasks.send_notification.delay", sent.append)  # eager here
    with time_machine.travel("2026-11-05 10:00:00+00:00", tick=False):
        charge(bamako, "2026-10", "2026-11")
        # The members' query, then per chunk of 3: the outbox check, the insert, the rows
        # to send (+ savepoints). Not per member.
        with (
            django_capture_on_commit_callbacks(execute=True),
            django_assert_max_num_queries(3 + 3 * 5),
        ):
            assert runs.queue_reminders(branch=bamako) == 7
        reminders = Notification.objects.filter(kind="dues_reminder")
        assert sorted(reminders.values_list("member_id", flat=True)) == sorted(p.pk for p in people)
        assert sorted(sent) == sorted(reminders.values_list("pk", flat=True))
        # Again: nothing new is written or sent.
        with django_capture_on_commit_callbacks(execute=True):
            assert runs.queue_reminders(branch=bamako) == 7
    assert reminders.count() == 7
    assert len(sent) == 7
