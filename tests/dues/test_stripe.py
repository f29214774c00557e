"""Card payments through Stripe: signed webhooks, exactly-once booking, reconciliation.

Events are real-shaped payloads (tests/dues/stripe_events.py) signed here with the
webhook secret the way Stripe signs them. Stripe's HTTP layer is a `responses` stub:
a request nobody stubbed fails the test, so nothing reaches the network.
"""

from __future__ import annotations

import json
import random
import threading
import time
from typing import Any
from urllib.parse import parse_qs

import pytest
import responses
from django.db import connection
from django.test import Client

from dues import selectors
from dues.models import (
    CardCheckout,
    CardSubscription,
    DuesAccount,
    EntryKind,
    EventStatus,
    LedgerEntry,
    StripeEvent,
    SubscriptionStatus,
)
from dues.services import card, plans
from tests.dues import stripe_events as ev
from tests.dues.conftest import JOINED, charge, deliver, sign, stub_list
from tests.factories import MemberFactory
from union.models import ContactPreference, Member, Notification

pytestmark = pytest.mark.django_db


def _account(member: Member, customer: str) -> DuesAccount:
    account = plans.account_for(member)
    DuesAccount.objects.filter(pk=account.pk).update(stripe_customer_id=customer)
    account.refresh_from_db()
    return account


@pytest.fixture
def payer(bamako, bko_plan) -> Member:
    member = MemberFactory(branch=bamako, joined_on=JOINED, with_login=True)
    _account(member, "cus_payer")
    return member


# --- the webhook door ----------------------------------------------------------------


def test_a_signed_event_is_stored_once_and_booked(
    client, stripe_on, payer, bamako, django_capture_on_commit_callbacks
):
    charge(bamako, "2026-11")
    event = ev.checkout_completed(
        "evt_1", session="cs_1", customer="cus_payer", amount=3000, payment_intent="pi_1"
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, event).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, event).status_code == 200  # Stripe retries: same answer
    stored = StripeEvent.objects.get()
    assert stored.status == EventStatus.BOOKED
    payment = LedgerEntry.objects.get(kind=EntryKind.PAYMENT)
    assert (payment.member, payment.amount, payment.external_id) == (payer, -3000, "pi_1")
    assert selectors.summary(payer).balance == -2000
    # Nothing personal from Stripe's object is kept.
    stored_text = json.dumps(stored.data)
    assert "someone@example.org" not in stored_text
    assert "Legal Name" not in stored_text


@pytest.mark.parametrize(
    "signature",
    [
        "",  # unsigned
        "t=1,v1=deadbeef",  # forged
        "too-old",
        "tampered",
    ],
)
def test_unsigned_tampered_or_old_deliveries_get_400_and_write_nothing(
    client, stripe_on, payer, signature
):
    event = ev.checkout_completed("evt_x", session="cs_x", customer="cus_payer", amount=1000)
    payload = json.dumps(event).encode()
    if signature == "too-old":
        signature = sign(payload, timestamp=int(time.time()) - 3600)
    elif signature == "tampered":
        signature = sign(payload)
        payload = payload.replace(b"1000", b"9000")
    response = client.post(
        "/dues/stripe/webhook/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=signature,
    )
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()
    assert not LedgerEntry.objects.exists()


def test_without_stripe_keys_the_webhook_accepts_nothing(client, payer):
    event = ev.checkout_completed("evt_1", session="cs_1", customer="cus_payer", amount=1000)
    assert deliver(client, event).status_code == 400
    assert not StripeEvent.objects.exists()


def test_an_event_for_an_unknown_reference_is_kept_for_the_treasurer(
    client, login, treasurer, stripe_on, payer, django_capture_on_commit_callbacks
):
    event = ev.checkout_completed("evt_u", session="cs_u", customer="cus_stranger", amount=700)
    with django_capture_on_commit_callbacks(execute=True):
        assert deliver(client, event).status_code == 200
    stored = StripeEvent.objects.get()
    assert stored.status == EventStatus.UNMATCHED
    assert not LedgerEntry.objects.exists()
    login(client, treasurer)
    page = client.get("/dues/office/card-events/")
    assert page.status_code == 200
    assert "cs_u" in page.content.decode()


def test_a_payment_in_the_wrong_currency_is_not_booked(stripe_on, payer):
    event = ev.checkout_completed(
        "evt_c", session="cs_c", customer="cus_payer", amount=1000, currency="usd",
        payment_intent="pi_c",
    )  # fmt: skip
    stored, _ = card.ingest_event(event)
    assert card.handle_event(stored.pk) == EventStatus.FAILED
    assert not LedgerEntry.objects.exists()


def test_a_failed_card_payment_tells_a_consenting_member_once(stripe_on, bamako, bko_plan):
    member = MemberFactory(
        branch=bamako,
        joined_on=JOINED,
        contact_preference=ContactPreference.SMS,
        consent_sms=True,
        phone="+22370000009",
    )
    _account(member, "cus_fail")
    for event_id in ("evt_f1", "evt_f2"):  # the same invoice failing, told twice
        stored, _ = card.ingest_event(
            ev.invoice_event(
                event_id, "invoice.payment_failed", invoice="in_f", customer="cus_fail",
                amount=1000, subscription="sub_f",
            )
        )  # fmt: skip
        card.handle_event(stored.pk)
    assert Notification.objects.filter(member=member, kind="dues_card_failed").count() == 1
    assert not LedgerEntry.objects.exists()


# --- exactly once, whatever the order --------------------------------------------------


def _world(tag: str, bamako: Any, stripe_http: responses.RequestsMock) -> list[dict[str, Any]]:
    """Three members with card activity, and the events Stripe sends about them."""
    a = MemberFactory(branch=bamako, joined_on=JOINED, working_name=f"{tag} A")
    b = MemberFactory(branch=bamako, joined_on=JOINED, working_name=f"{tag} B")
    _account(a, f"cus_{tag}_a")
    account_b = _account(b, f"cus_{tag}_b")
    stub_list(
        stripe_http,
        "refunds",
        [ev.refund(f"re_{tag}", charge=f"ch_{tag}", amount=1000)],
    )
    return [
        ev.checkout_completed(
            f"evt_{tag}_1", session=f"cs_{tag}_1", customer=f"cus_{tag}_a", amount=3000,
            payment_intent=f"pi_{tag}_1",
        ),
        ev.charge_refunded(
            f"evt_{tag}_2", charge=f"ch_{tag}", customer=f"cus_{tag}_a",
            payment_intent=f"pi_{tag}_1", amount=3000, refunded=1000,
        ),
        ev.checkout_completed(
            f"evt_{tag}_3", session=f"cs_{tag}_3", customer=f"cus_{tag}_b", amount=1000,
            subscription=f"sub_{tag}",
        ),
        ev.invoice_event(
            f"evt_{tag}_4", "invoice.paid", invoice=f"in_{tag}_1", customer=f"cus_{tag}_b",
            amount=1000, subscription=f"sub_{tag}", ref=account_b.reference,
        ),
        ev.invoice_event(
            f"evt_{tag}_5", "invoice.paid", invoice=f"in_{tag}_2", customer=f"cus_{tag}_b",
            amount=1000, subscription=f"sub_{tag}",
        ),
        ev.subscription_deleted(
            f"evt_{tag}_6", subscription=f"sub_{tag}", customer=f"cus_{tag}_b", amount=1000
        ),
        ev.checkout_completed(
            f"evt_{tag}_7", session=f"cs_{tag}_7", customer=f"cus_{tag}_nobody", amount=500,
            payment_intent=f"pi_{tag}_7",
        ),
    ]  # fmt: skip


def _snapshot(tag: str) -> dict[str, Any]:
    """The ledger of one world, with the world's tag taken out of every id."""

    def plain(value: str) -> str:
        return value.replace(f"_{tag}", "").replace(f"{tag} ", "")

    rows = sorted(
        (
            plain(e.member.working_name),
            e.kind,
            e.amount,
            e.currency,
            plain(e.external_id),
            str(e.booked_on),
            plain(e.refund_of.external_id) if e.refund_of else "",
        )
        for e in LedgerEntry.objects.filter(member__working_name__startswith=tag)
        .exclude(kind=EntryKind.CHARGE)
        .select_related("member", "refund_of")
    )
    members = Member.objects.filter(working_name__startswith=tag)
    return {
        "rows": rows,
        "balances": sorted(
            (plain(m.working_name), selectors.summary(m).balance, selectors.summary(m).months_owed)
            for m in members
        ),
        "subscriptions": sorted(
            (plain(s.subscription_id), s.status)
            for s in CardSubscription.objects.filter(subscription_id__contains=tag)
        ),
        "events": sorted(
            (plain(e.event_id), e.status)
            for e in StripeEvent.objects.filter(event_id__contains=f"_{tag}_")
        ),
    }


@pytest.mark.parametrize("seed", [1, 2])
def test_three_deliveries_in_any_order_book_what_one_in_order_delivery_books(
    client, stripe_on, bamako, bko_plan, seed, django_capture_on_commit_callbacks
):
    in_order = _world("w1", bamako, stripe_on)
    shuffled = _world("w2", bamako, stripe_on)
    stub_list(stripe_on, "invoice_payments", [])
    charge(bamako, "2026-10", "2026-11")

    for event in in_order:
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(client, event).status_code == 200
    deliveries = shuffled * 3
    random.Random(seed).shuffle(deliveries)
    for event in deliveries:
        with django_capture_on_commit_callbacks(execute=True):
            assert deliver(client, event).status_code == 200

    first, second = _snapshot("w1"), _snapshot("w2")
    assert first == second
    # And what was booked is right: A paid 3000 and got 1000 back; B paid two months.
    assert ("A", EntryKind.PAYMENT, -3000, "XOF", "pi_1", "2026-11-18", "") in first["rows"]
    assert ("A", EntryKind.REFUND, 1000, "XOF", "re", "2026-11-18", "pi_1") in first["rows"]
    assert first["subscriptions"] == [("sub", SubscriptionStatus.CANCELED)]
    assert ("evt_7", EventStatus.UNMATCHED) in first["events"]


@pytest.mark.embedded
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_deliveries_of_one_event_book_one_payment(settings, bamako, bko_plan):
    settings.STRIPE_SECRET_KEY = "sk_test_solidaire"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_solidaire"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_solidaire"
    member = MemberFactory(branch=bamako, joined_on=JOINED)
    _account(member, "cus_race")
    event = ev.checkout_completed(
        "evt_race", session="cs_race", customer="cus_race", amount=2000, payment_intent="pi_race"
    )
    barrier = threading.Barrier(20)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def post() -> None:
        try:
            client = Client()
            barrier.wait(timeout=20)
            statuses.append(deliver(client, event).status_code)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert statuses == [200] * 20
    assert StripeEvent.objects.filter(event_id="evt_race").count() == 1
    assert StripeEvent.objects.get().status == EventStatus.BOOKED
    assert LedgerEntry.objects.filter(kind=EntryKind.PAYMENT, member=member).count() == 1


# --- reconciliation --------------------------------------------------------------------


def test_reconciliation_books_what_the_webhook_missed_exactly_once(
    client, stripe_on, payer, bamako, django_capture_on_commit_callbacks
):
    from io import StringIO

    from django.core.management import call_command

    charge(bamako, "2026-11")
    received = ev.checkout_completed(
        "evt_r1", session="cs_r1", customer="cus_payer", amount=1000, payment_intent="pi_r1"
    )
    missed = ev.checkout_completed(
        "evt_r2", session="cs_r2", customer="cus_payer", amount=2000, payment_intent="pi_r2"
    )
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, received)
    stub_list(stripe_on, "events", [missed, received])

    out = StringIO()
    call_command("reconcile_stripe", stdout=out)
    assert "2 events seen, 1 new, 1 booked" in out.getvalue()
    out = StringIO()
    call_command("reconcile_stripe", stdout=out)
    assert "2 events seen, 0 new, 0 booked" in out.getvalue()
    assert sorted(
        LedgerEntry.objects.filter(kind=EntryKind.PAYMENT).values_list("external_id", flat=True)
    ) == ["pi_r1", "pi_r2"]
    request = next(c.request for c in stripe_on.calls if "/v1/events" in c.request.url)
    assert "types" in request.url and "created" in request.url


# --- paying by card ----------------------------------------------------------------------


def test_checkout_sends_stripe_an_opaque_reference_only_with_idempotency_keys(
    client, login, stripe_on, bamako, bko_plan
):
    member = MemberFactory(
        branch=bamako,
        joined_on=JOINED,
        with_login=True,
        working_name="Fanta Secret",
        phone="+22370001234",
        email="fanta@example.org",
    )
    stripe_on.add(
        responses.POST,
        "https://api.stripe.com/v1/customers",
        json={"id": "cus_new", "object": "customer"},
    )
    stripe_on.add(
        responses.POST,
        "https://api.stripe.com/v1/checkout/sessions",
        json={"id": "cs_new", "object": "checkout.session", "url": "https://checkout.stripe.com/c/pay/cs_new"},
    )  # fmt: skip
    login(client, member)
    response = client.post("/dues/my/card/", {"purpose": "months", "months": "3"})
    assert response.status_code == 302
    assert response["Location"] == "https://checkout.stripe.com/c/pay/cs_new"

    checkout = CardCheckout.objects.get()
    assert (checkout.amount, checkout.months, checkout.session_id) == (3000, 3, "cs_new")
    sent = [c.request for c in stripe_on.calls]
    assert len(sent) == 2
    for request in sent:
        body = request.body.decode() if isinstance(request.body, bytes) else request.body
        for personal in ("Fanta", "Secret", "22370001234", "fanta@example.org", member.number):
            assert personal not in body
        assert request.headers.get("Idempotency-Key")
    session = parse_qs(sent[1].body)
    assert session["client_reference_id"] == [checkout.token]
    assert session["line_items[0][price_data][unit_amount]"] == ["1000"]
    assert session["line_items[0][quantity]"] == ["3"]
    assert session["line_items[0][price_data][currency]"] == ["xof"]
    assert DuesAccount.objects.get(member=member).stripe_customer_id == "cus_new"


def test_without_stripe_keys_the_card_option_is_hidden(client, login, member, bko_plan):
    login(client, member)
    page = client.get("/dues/my/")
    assert page.status_code == 200
    assert "/dues/my/card/" not in page.content.decode()
    response = client.post("/dues/my/card/", {"purpose": "months", "months": "1"})
    assert (response.status_code, response["Location"]) == (302, "/dues/my/")
    assert not CardCheckout.objects.exists()


def test_cancelling_the_monthly_card_payment(client, login, stripe_on, payer):
    CardSubscription.objects.create(
        subscription_id="sub_live",
        account=payer.dues_account,
        status=SubscriptionStatus.ACTIVE,
        amount=1000,
        currency="XOF",
    )
    stripe_on.add(
        responses.DELETE,
        "https://api.stripe.com/v1/subscriptions/sub_live",
        json={"id": "sub_live", "object": "subscription", "status": "canceled"},
    )
    login(client, payer)
    assert client.post("/dues/my/card/cancel/").status_code == 302
    assert CardSubscription.objects.get().status == SubscriptionStatus.CANCELED
    assert stripe_on.calls[0].request.headers.get("Idempotency-Key") == "cancel-sub_live"


def test_when_stripe_does_not_answer_the_member_is_told_and_nothing_breaks(
    client, login, stripe_on, payer
):
    stripe_on.add(
        responses.POST,
        "https://api.stripe.com/v1/checkout/sessions",
        status=500,
        json={"error": {"type": "api_error", "message": "boom"}},
    )
    login(client, payer)
    response = client.post("/dues/my/card/", {"purpose": "months", "months": "1"}, follow=True)
    assert response.status_code == 200
    assert "did not answer" in response.content.decode()
    assert CardCheckout.objects.get().session_id is None
