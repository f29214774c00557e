"""Card payments under load: the webhook stores an event in one statement, and the worker
books the payments waiting together, leaving exactly what booking them one by one leaves."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dues import selectors
from dues.models import Allocation, EntryKind, EventStatus, LedgerEntry, StripeEvent
from dues.services import card
from dues.tasks import process_stripe_event
from dues.welfare.models import FundEntry, Purpose
from tests.dues import stripe_events as ev
from tests.dues.conftest import JOINED, charge, deliver
from tests.dues.test_stripe import _account
from tests.dues.welfare.conftest import make_fund
from tests.factories import MemberFactory
from union.models import AuditEvent, ContactPreference, Member, MemberStatus, Notification

pytestmark = pytest.mark.django_db


def _payer(bamako: Any, name: str, **kw: Any) -> Member:
    member = MemberFactory(branch=bamako, joined_on=JOINED, working_name=name, **kw)
    _account(member, f"cus_{name}")
    return member


def _paid(event_id: str, customer: str, amount: int, intent: str, **kw: Any) -> dict[str, Any]:
    return ev.checkout_completed(
        event_id,
        session=f"cs_{event_id}",
        customer=f"cus_{customer}",
        amount=amount,
        payment_intent=intent,
        **kw,
    )


# --- the webhook door ----------------------------------------------------------------


def test_a_delivery_is_one_statement_and_a_repeat_queues_nothing(
    client,
    stripe_on,
    bamako,
    bko_plan,
    monkeypatch,
    django_assert_num_queries,
    django_capture_on_commit_callbacks,
):
    _payer(bamako, "door")
    queued: list[int] = []
    monkeypatch.setattr(process_stripe_event, "delay", queued.append)
    event = _paid("evt_door", "door", 1000, "pi_door")

    with django_assert_num_queries(1), django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, event).status_code == 200
    with django_assert_num_queries(1), django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, event).status_code == 200  # Stripe delivers it again

    stored = StripeEvent.objects.get()
    assert queued == [stored.pk]  # the repeat wrote nothing and queued nothing
    assert (stored.status, stored.amount, stored.currency) == (EventStatus.PENDING, 1000, "XOF")
    assert stored.data["payment_intent"] == "pi_door"


# --- booking the payments waiting together ----------------------------------------------


def _world(tag: str, bamako: Any) -> list[dict[str, Any]]:
    """Payments of four members, a repeat, and three events that book nothing."""
    _payer(bamako, f"{tag}a")  # pays half of what they owe
    _payer(
        bamako, f"{tag}b", contact_preference=ContactPreference.SMS, consent_sms=True,
        phone="+22370000001" if tag == "wone" else "+22370000002",
    )  # fmt: skip
    _payer(bamako, f"{tag}c")  # lapsed (below), pays everything
    _payer(bamako, f"{tag}d")
    return [
        _paid(f"{tag}1", f"{tag}a", 3000, f"pi_{tag}_a"),
        _paid(f"{tag}2", f"{tag}b", 1000, f"pi_{tag}_b"),
        _paid(f"{tag}3", f"{tag}c", 6000, f"pi_{tag}_c"),
        _paid(f"{tag}4", f"{tag}c", 6000, f"pi_{tag}_c"),  # the same payment, another event
        _paid(f"{tag}5", f"{tag}d", 1000, f"pi_{tag}_d", currency="zar"),  # wrong currency
        _paid(f"{tag}6", "nobody", 500, f"pi_{tag}_x"),  # nobody we know
        ev.checkout_completed(  # a subscription starting: no money yet
            f"{tag}7", session=f"cs_{tag}7", customer=f"cus_{tag}d", amount=1000,
            subscription=f"sub_{tag}",
        ),
    ]  # fmt: skip


def _store(events: list[dict[str, Any]]) -> list[int]:
    return [card.ingest_event(e)[0].pk for e in events]


def _snapshot(tag: str) -> dict[str, Any]:
    def plain(value: str) -> str:
        return value.replace(tag, "")

    members = Member.objects.filter(working_name__startswith=tag).order_by("working_name")
    entries = LedgerEntry.objects.filter(member__in=members)
    return {
        "rows": sorted(
            (plain(e.member.working_name), e.kind, e.amount, plain(e.external_id), str(e.booked_on))
            for e in entries.exclude(kind=EntryKind.CHARGE).select_related("member")
        ),
        "settled": sorted(
            (plain(a.credit.member.working_name), a.debit.period, a.amount)
            for a in Allocation.objects.filter(member__in=members).select_related(
                "credit__member", "debit"
            )
        ),
        "members": [
            (plain(m.working_name), m.status, selectors.summary(m).balance) for m in members
        ],
        "events": sorted(
            (plain(e.event_id), e.status, e.note, plain(e.entry.external_id) if e.entry else "")
            for e in StripeEvent.objects.filter(event_id__startswith=tag)
        ),
        "messages": sorted(
            (plain(n.member.working_name), n.kind, n.status)
            for n in Notification.objects.filter(member__in=members).select_related("member")
        ),
        "shares": sorted(
            (plain(f.dues_entry.member.working_name), f.amount)
            for f in FundEntry.objects.filter(dues_entry__in=entries).select_related(
                "dues_entry__member"
            )
        ),
        "audit": AuditEvent.objects.filter(
            action="dues.payment", target__in=[f"entry:{e.public_id}" for e in entries]
        ).count(),
    }


def test_payments_booked_together_leave_what_booking_them_one_by_one_leaves(
    stripe_on, bamako, bko_plan, national
):
    make_fund(bamako, Purpose.EMERGENCY, 1000)  # 10 % of every payment
    make_fund(national, Purpose.MEDICAL, 250)  # and 2.5 % to the national fund
    one_by_one = _store(_world("wone", bamako))
    together = _store(_world("wtwo", bamako))
    charge(bamako, "2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11")
    Member.objects.filter(working_name__in=["wonec", "wtwoc"]).update(status=MemberStatus.LAPSED)

    for pk in one_by_one:
        card.handle_event(pk)
    assert card.book_event(together[0]) == EventStatus.BOOKED
    assert not StripeEvent.objects.filter(status=EventStatus.PENDING).exists()
    for pk in together:  # their own tasks come later: nothing left to do
        card.book_event(pk)

    alone, batch = _snapshot("wone"), _snapshot("wtwo")
    assert batch == alone
    # And what was booked is right: c's payment once and c reinstated, b still far behind
    # and lapsed, d's payment refused.
    assert [row for row in batch["rows"] if row[0] == "c"] == [
        ("c", EntryKind.PAYMENT, -6000, "pi__c", "2026-11-18")
    ]
    assert batch["members"] == [
        ("a", MemberStatus.ACTIVE, 3000),
        ("b", MemberStatus.LAPSED, 5000),
        ("c", MemberStatus.ACTIVE, 0),
        ("d", MemberStatus.ACTIVE, 6000),
    ]
    assert ("5", EventStatus.FAILED, "currency", "") in batch["events"]
    assert ("6", EventStatus.UNMATCHED, "unknown reference", "") in batch["events"]
    assert ("b", "dues_payment", "pending") in batch["messages"]
    assert batch["shares"] == [("a", 75), ("a", 300), ("b", 25), ("b", 100), ("c", 150), ("c", 600)]
    assert batch["audit"] == 3


def test_a_batch_costs_one_statement_a_payment_plus_a_few(
    stripe_on, bamako, bko_plan, django_assert_max_num_queries
):
    make_fund(bamako, Purpose.EMERGENCY, 1000)
    for n in range(30):
        _payer(bamako, f"many{n}")
    charge(bamako, "2026-10", "2026-11")
    stored = _store([_paid(f"many{n}", f"many{n}", 1000, f"pi_many{n}") for n in range(30)])

    # Per payment its funds' share, as for a single booking; the rest (ledger rows,
    # settling, standing, receipts, audit rows, the events) once for the batch.
    with django_assert_max_num_queries(30 + 20):
        assert card.book_event(stored[0]) == EventStatus.BOOKED
    assert LedgerEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 30
    assert Allocation.objects.count() == 30
    assert FundEntry.objects.filter(amount=100).count() == 30


@pytest.mark.django_db(transaction=True)
def test_workers_booking_at_once_book_every_payment_once(bamako, bko_plan, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_solidaire"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_solidaire"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_solidaire"
    for n in range(12):
        _payer(bamako, f"race{n}")
    events = [_paid(f"race{n}", f"race{n % 12}", 1000, f"pi_race{n % 12}") for n in range(36)]
    stored = _store(events)  # three events for each payment
    card.BATCH_SIZE, batch_size = 5, card.BATCH_SIZE  # many small batches, racing
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []

    def worker(ids: list[int]) -> None:
        try:
            barrier.wait(timeout=20)
            for pk in ids:
                card.book_event(pk)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    try:
        threads = [threading.Thread(target=worker, args=(stored[i::6],)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        card.BATCH_SIZE = batch_size
    assert not errors
    assert set(StripeEvent.objects.values_list("status", flat=True)) == {EventStatus.BOOKED}
    payments = LedgerEntry.objects.filter(kind=EntryKind.PAYMENT)
    assert payments.count() == payments.values("external_id").distinct().count() == 12
    assert AuditEvent.objects.filter(action="dues.payment").count() == 12
    with CaptureQueriesContext(connection) as ctx:
        assert card.book_event(stored[-1]) == EventStatus.BOOKED  # a late task: one query
    assert len(ctx.captured_queries) == 1


def test_after_a_broker_outage_the_retry_job_queues_one_task_a_batch(
    stripe_on, bamako, bko_plan, monkeypatch
):
    import time_machine
    from django.utils import timezone

    from dues.tasks import retry_stuck_stripe_events

    for n in range(12):
        _payer(bamako, f"lost{n}")
    _store([_paid(f"lost{n}", f"lost{n}", 1000, f"pi_lost{n}") for n in range(12)])
    _store(
        [
            ev.subscription_deleted(
                "lostsub", subscription="sub_lost", customer="cus_lost0", amount=1000
            )
        ]
    )
    monkeypatch.setattr(card, "BATCH_SIZE", 5)

    with time_machine.travel(timezone.now() + card.STUCK_AFTER * 2):
        assert len(card.stuck_events()) == 3 + 1  # 12 payments in batches of 5, and the other
        assert retry_stuck_stripe_events() == 4
        assert card.stuck_events() == []
    assert set(StripeEvent.objects.values_list("status", flat=True)) == {
        EventStatus.BOOKED,
        EventStatus.NOTHING,
    }
    assert LedgerEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 12
