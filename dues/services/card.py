"""Card payments: Checkout, subscriptions, Stripe events and reconciliation.

Events arrive by webhook (signature checked in the view) or by reconciliation; either way
each is stored once under its Stripe id, then handled by a task. Handling locks the
event row and does nothing if it was handled before, and every booking is unique on the
Stripe payment or refund id: duplicates, retries and out-of-order delivery change nothing
after the first. A refund that arrives before its payment books the payment first (from
the charge), so any order of the same events leaves the same ledger.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

import stripe
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dues import providers
from dues.models import (
    CardCheckout,
    CardSubscription,
    CheckoutPurpose,
    DuesAccount,
    EntryKind,
    EventStatus,
    LedgerEntry,
    Method,
    StripeEvent,
    SubscriptionStatus,
)
from dues.selectors import member_rate
from dues.services.ledger import (
    CardPayment,
    book_card_payment,
    book_card_payments,
    book_card_refund,
    owed,
)
from dues.services.plans import account_for
from union.models import Member, MemberStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)

MAX_MONTHS_AHEAD = 12
CARD_SERVICE_DOWN = gettext_lazy(
    "The card service did not answer. Try again later, or pay your treasurer in cash."
)
# What we keep of an event's object: ids, amounts, state and our own opaque references.
KEPT_FIELDS = (
    "id",
    "object",
    "mode",
    "status",
    "payment_status",
    "amount",
    "amount_total",
    "amount_paid",
    "amount_refunded",
    "currency",
    "customer",
    "payment_intent",
    "subscription",
    "client_reference_id",
    "billing_reason",
    "created",
)


def card_enabled() -> bool:
    return providers.stripe().available()


# --- paying by card ------------------------------------------------------------------


def _own_member(actor: User) -> Member:
    member = Member.objects.filter(user=actor).select_related("branch").first()
    if member is None or member.status not in (MemberStatus.ACTIVE, MemberStatus.LAPSED):
        raise ValidationError(_("Only members can pay dues."), code="not_member")
    return member


def start_checkout(
    *,
    actor: User,
    purpose: str,
    months: int = 1,
    success_url: str,
    cancel_url: str,
    locale: str = "en",
) -> CardCheckout:
    """Open a Stripe Checkout page for the signed-in member; returns it with its URL.

    Stripe receives an opaque reference, the amount and the currency: nothing else.
    The Stripe calls carry idempotency keys derived from our row, so a retry cannot open
    two payments.
    """
    provider = providers.stripe()
    if not provider.available():
        raise ValidationError(_("Card payments are not available."), code="disabled")
    member = _own_member(actor)
    rate = member_rate(member)
    if rate is None:
        raise ValidationError(_("This branch has no dues plan yet."), code="no_plan")
    currency = member.branch.currency
    quantity = 1
    if purpose == CheckoutPurpose.MONTHS:
        if not 1 <= months <= MAX_MONTHS_AHEAD:
            raise ValidationError(
                _("Choose between 1 and %(max)s months.") % {"max": MAX_MONTHS_AHEAD}
            )
        unit, quantity = rate, months
    elif purpose == CheckoutPurpose.ARREARS:
        unit = owed(member.pk)
        if unit <= 0:
            raise ValidationError(_("You owe nothing at the moment."), code="nothing_owed")
    elif purpose == CheckoutPurpose.SUBSCRIPTION:
        unit = rate
        if CardSubscription.objects.filter(
            account__member=member, status=SubscriptionStatus.ACTIVE
        ).exists():
            raise ValidationError(_("You already pay by card every month."), code="subscribed")
    else:
        raise ValidationError(_("Choose what to pay."), code="purpose")
    with transaction.atomic():
        account = DuesAccount.objects.select_for_update().get(pk=account_for(member).pk)
        checkout = CardCheckout.objects.create(
            account=account,
            purpose=purpose,
            months=quantity,
            amount=unit * quantity,
            currency=currency,
        )
    # Outside the transaction: no database lock is held while Stripe answers.
    try:
        if not account.stripe_customer_id:
            customer_id = provider.create_customer(reference=account.reference)
            DuesAccount.objects.filter(pk=account.pk, stripe_customer_id__isnull=True).update(
                stripe_customer_id=customer_id
            )
            account.refresh_from_db(fields=["stripe_customer_id"])
        session_id, url = provider.create_checkout(
            token=checkout.token,
            customer_id=str(account.stripe_customer_id),
            reference=account.reference,
            currency=currency,
            unit_amount=unit,
            quantity=quantity,
            subscription=purpose == CheckoutPurpose.SUBSCRIPTION,
            success_url=success_url,
            cancel_url=cancel_url,
            locale=locale,
        )
    except stripe.StripeError as exc:
        raise ValidationError(CARD_SERVICE_DOWN, code="stripe") from exc
    CardCheckout.objects.filter(pk=checkout.pk).update(session_id=session_id, url=url)
    checkout.session_id, checkout.url = session_id, url
    return checkout


def cancel_subscription(*, actor: User) -> CardSubscription | None:
    """Stop the member's monthly card payment (at Stripe, then here). None if there is none."""
    member = _own_member(actor)
    subscription = CardSubscription.objects.filter(
        account__member=member, status=SubscriptionStatus.ACTIVE
    ).first()
    if subscription is None:
        return None
    try:
        providers.stripe().cancel_subscription(subscription.subscription_id)
    except stripe.StripeError as exc:
        raise ValidationError(CARD_SERVICE_DOWN, code="stripe") from exc
    _end_subscription(subscription.subscription_id)
    subscription.refresh_from_db()
    return subscription


def _end_subscription(subscription_id: str) -> None:
    CardSubscription.objects.filter(
        subscription_id=subscription_id, status=SubscriptionStatus.ACTIVE
    ).update(status=SubscriptionStatus.CANCELED, ended_at=timezone.now())


# --- receiving events ----------------------------------------------------------------


def _keep(obj: dict[str, Any]) -> dict[str, Any]:
    kept = {key: obj[key] for key in KEPT_FIELDS if obj.get(key) is not None}
    ref = (obj.get("metadata") or {}).get("ref")
    details = ((obj.get("parent") or {}).get("subscription_details")) or {}
    if details:
        kept["subscription"] = details.get("subscription")
        ref = ref or (details.get("metadata") or {}).get("ref")
    if ref:
        kept["ref"] = str(ref)[:64]
    refunds = obj.get("refunds")
    if isinstance(refunds, dict) and isinstance(refunds.get("data"), list):
        kept["refunds"] = [
            {k: r.get(k) for k in ("id", "amount", "status", "created")} for r in refunds["data"]
        ]
    items = ((obj.get("items") or {}).get("data")) or []
    if items:
        kept["unit_amount"] = ((items[0].get("price") or {}).get("unit_amount")) or 0
    return kept


def _amount_of(data: dict[str, Any]) -> int | None:
    for key in ("amount_total", "amount_paid", "amount_refunded", "amount"):
        if isinstance(data.get(key), int):
            return int(data[key])
    return None


def _event_row(event: dict[str, Any]) -> StripeEvent:
    """The row a (verified) event is stored as, unsaved."""
    obj = (event.get("data") or {}).get("object") or {}
    data = _keep(obj)
    return StripeEvent(
        event_id=str(event["id"]),
        type=str(event.get("type", ""))[:64],
        livemode=bool(event.get("livemode")),
        stripe_created=datetime.fromtimestamp(int(event.get("created", 0)), tz=UTC),
        data=data,
        amount=_amount_of(data),
        currency=str(data.get("currency", "")).upper()[:3],
    )


def ingest_event(event: dict[str, Any]) -> tuple[StripeEvent, bool]:
    """Store a (verified) event once. Returns (row, created); a duplicate returns the first."""
    row = _event_row(event)
    stored, created = StripeEvent.objects.get_or_create(
        event_id=row.event_id,
        defaults={
            field: getattr(row, field)
            for field in ("type", "livemode", "stripe_created", "data", "amount", "currency")
        },
    )
    return stored, created


_EVENT_FIELDS = [f for f in StripeEvent._meta.concrete_fields if not f.primary_key]


@cache
def _store_once_sql() -> str:
    quote = connection.ops.quote_name
    return (
        f"INSERT INTO {quote(StripeEvent._meta.db_table)} "  # noqa: S608 - names from the model
        f"({', '.join(quote(str(f.column)) for f in _EVENT_FIELDS)}) "
        f"VALUES ({', '.join(['%s'] * len(_EVENT_FIELDS))}) "
        "ON CONFLICT (event_id) DO NOTHING RETURNING id"
    )


def store_event_once(event: dict[str, Any]) -> int | None:
    """Store a (verified) event unless its id is stored already: one statement, which
    the unique event id makes safe against a concurrent delivery of the same event.
    Returns the new row's id, None for a repeat."""
    row = _event_row(event)
    params = [f.get_db_prep_save(f.pre_save(row, add=True), connection) for f in _EVENT_FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(_store_once_sql(), params)
        new = cursor.fetchone()
    return int(new[0]) if new else None


def receive_event(event: dict[str, Any]) -> int | None:
    """The webhook's part: store the event once and queue its booking. Returns the new
    row's id, None for a repeat delivery.

    Stripe wants a quick answer, so this is one INSERT (committed on its own outside a
    transaction) and one message to the broker, nothing else. A repeat writes and queues
    nothing: the first delivery's task books the event, or the retry job does if that
    task was lost (stuck_events).
    """
    from dues.tasks import process_stripe_event

    pk = store_event_once(event)
    if pk is not None:
        # robust: the event is stored by then, so a broker that is down must not turn
        # Stripe's delivery into an error (and a retry storm); stuck_events() finds it.
        def book_after_commit() -> None:
            process_stripe_event.delay(pk)

        transaction.on_commit(book_after_commit, robust=True)
    return pk


# Stored events whose booking task never ran (the broker lost it, a worker died with it):
# handed to the workers again after this long. Booking locks the event and re-checks its
# status, so a task that was only slow books nothing twice.
STUCK_AFTER = timedelta(minutes=2)


def stuck_events(limit: int = 500) -> list[int]:
    """Ids of events still waiting to be booked STUCK_AFTER after they arrived: every other
    event, and one payment event in BATCH_SIZE (its task books the payments waiting with
    it: after a broker outage, a task for each would be a queue of no-ops)."""
    waiting = StripeEvent.objects.filter(
        status=EventStatus.PENDING, received_at__lt=timezone.now() - STUCK_AFTER
    ).order_by("received_at")
    ids, payments = [], 0
    for pk, kind in waiting.values_list("pk", "type")[:limit]:
        if kind in PAYMENT_EVENTS:
            payments += 1
            if (payments - 1) % BATCH_SIZE:
                continue
        ids.append(pk)
    return ids


# --- handling events -----------------------------------------------------------------


@dataclass
class Outcome:
    status: str
    entry: LedgerEntry | None = None
    account: DuesAccount | None = None
    note: str = ""


def _account(data: dict[str, Any]) -> DuesAccount | None:
    customer = data.get("customer")
    if isinstance(customer, str) and customer:
        account = (
            DuesAccount.objects.filter(stripe_customer_id=customer)
            .select_related("member__branch")
            .first()
        )
        if account is not None:
            return account
    return _account_by_reference(data)


def _account_by_reference(data: dict[str, Any]) -> DuesAccount | None:
    for ref in (data.get("ref"), data.get("client_reference_id")):
        if not ref:
            continue
        checkout = CardCheckout.objects.filter(token=ref).select_related("account").first()
        if checkout is not None:
            return checkout.account
        account = DuesAccount.objects.filter(reference=ref).first()
        if account is not None:
            return account
    return None


def _paid_at(data: dict[str, Any], event: StripeEvent) -> datetime:
    created = data.get("created")
    if isinstance(created, int):
        return datetime.fromtimestamp(created, tz=UTC)
    return event.stripe_created


def _currency_ok(account: DuesAccount, currency: str) -> bool:
    return currency.upper() == account.member.branch.currency


def _payment_of(event: StripeEvent, account: DuesAccount) -> CardPayment | None:
    """The payment a paid checkout or a paid invoice books; None for any other event."""
    data = event.data
    if event.type == "checkout.session.completed":
        if data.get("mode") == "subscription" or data.get("payment_status") != "paid":
            return None
        amount = int(data.get("amount_total") or 0)
        external_id = data.get("payment_intent") or data["id"]
    elif event.type == "invoice.paid":
        amount = int(data.get("amount_paid") or 0)
        external_id = data["id"]
        if amount <= 0:
            return None
    else:
        return None
    return _payment(event, account, amount, str(external_id))


def _payment(
    event: StripeEvent, account: DuesAccount, amount: int, external_id: str
) -> CardPayment:
    return CardPayment(
        member_id=account.member_id,
        amount=amount,
        currency=str(event.data.get("currency", "")).upper(),
        external_id=external_id,
        paid_at=_paid_at(event.data, event),
    )


def _book(event: StripeEvent, account: DuesAccount, payment: CardPayment) -> Outcome:
    if not _currency_ok(account, payment.currency):
        return Outcome(EventStatus.FAILED, account=account, note="currency")
    entry, _created = book_card_payment(
        account=account,
        amount=payment.amount,
        currency=payment.currency,
        external_id=payment.external_id,
        paid_at=payment.paid_at,
    )
    return Outcome(EventStatus.BOOKED, entry=entry, account=account)


def _checkout_completed(event: StripeEvent, account: DuesAccount) -> Outcome:
    data = event.data
    if data.get("mode") == "subscription":
        subscription_id = data.get("subscription")
        if subscription_id:
            checkout = CardCheckout.objects.filter(token=data.get("client_reference_id")).first()
            CardSubscription.objects.get_or_create(
                subscription_id=subscription_id,
                defaults={
                    "account": account,
                    "status": SubscriptionStatus.ACTIVE,
                    "amount": checkout.amount if checkout else int(data.get("amount_total") or 0),
                    "currency": account.member.branch.currency,
                },
            )
        return Outcome(EventStatus.NOTHING, account=account, note="subscription started")
    payment = _payment_of(event, account)
    if payment is None:
        return Outcome(EventStatus.NOTHING, account=account, note="not paid")
    return _book(event, account, payment)


def _invoice_paid(event: StripeEvent, account: DuesAccount) -> Outcome:
    payment = _payment_of(event, account)
    if payment is None:
        return Outcome(EventStatus.NOTHING, account=account, note="nothing paid")
    return _book(event, account, payment)


def _invoice_failed(event: StripeEvent, account: DuesAccount) -> Outcome:
    from union.notifications.services import choose_channel, notify_member

    member = account.member
    if choose_channel(member):
        notify_member(
            member=member,
            kind="dues_card_failed",
            dedupe_key=f"dues-card-failed:{event.data['id']}",
            context={},
        )
    return Outcome(EventStatus.NOTHING, account=account, note="payment failed")


def _card_payment(external_id: str) -> LedgerEntry | None:
    return LedgerEntry.objects.filter(
        method=Method.CARD, provider="stripe", external_id=external_id, kind=EntryKind.PAYMENT
    ).first()


def _charge_refunded(event: StripeEvent, account: DuesAccount) -> Outcome:
    data = event.data
    provider = providers.stripe()
    intent = data.get("payment_intent") or data["id"]
    payment = _card_payment(intent)
    if payment is None:
        invoice = provider.invoice_of_payment_intent(intent)
        key = invoice or intent
        payment = _card_payment(key)
        if payment is None:
            # The refund came first: book the payment it refunds, from the charge.
            outcome = _book(
                event, account, _payment(event, account, int(data.get("amount") or 0), key)
            )
            if outcome.entry is None:
                return outcome
            payment = outcome.entry
    refunds = data.get("refunds")
    if refunds is None:
        refunds = provider.refunds_of_charge(data["id"])
    last = None
    for refund in sorted(refunds, key=lambda r: (r.get("created") or 0, r.get("id"))):
        if refund.get("status") not in ("succeeded", "pending"):
            continue
        last, _created = book_card_refund(
            payment=payment,
            amount=int(refund["amount"]),
            external_id=str(refund["id"]),
            refunded_at=datetime.fromtimestamp(int(refund.get("created") or 0), tz=UTC)
            if refund.get("created")
            else event.stripe_created,
        )
    return Outcome(EventStatus.BOOKED, entry=last or payment, account=account)


def _subscription_deleted(event: StripeEvent, account: DuesAccount) -> Outcome:
    subscription_id = event.data["id"]
    _subscription, created = CardSubscription.objects.get_or_create(
        subscription_id=subscription_id,
        defaults={
            "account": account,
            "status": SubscriptionStatus.CANCELED,
            "amount": int(event.data.get("unit_amount") or 0),
            "currency": account.member.branch.currency,
            "ended_at": event.stripe_created,
        },
    )
    if not created:
        _end_subscription(subscription_id)
    return Outcome(EventStatus.NOTHING, account=account, note="subscription ended")


HANDLERS: dict[str, Callable[[StripeEvent, DuesAccount], Outcome]] = {
    "checkout.session.completed": _checkout_completed,
    "invoice.paid": _invoice_paid,
    "invoice.payment_failed": _invoice_failed,
    "charge.refunded": _charge_refunded,
    "customer.subscription.deleted": _subscription_deleted,
}


def _code(exc: ValidationError) -> str:
    """What an event's note keeps of a refused booking: its code, never its text."""
    return str(getattr(exc, "code", None) or "")[:200]


def _handled(event: StripeEvent, account: DuesAccount | None) -> Outcome:
    """What the event's handler makes of it (in a savepoint: a refusal writes nothing)."""
    handler = HANDLERS.get(event.type)
    if handler is None:
        return Outcome(EventStatus.NOTHING, account=account, note="not handled")
    if account is None:
        return Outcome(EventStatus.UNMATCHED, note="unknown reference")
    try:
        with transaction.atomic():
            return handler(event, account)
    except ValidationError as exc:
        return Outcome(EventStatus.FAILED, account=account, note=_code(exc))


_MARKED = ["status", "entry", "account", "note", "attempts", "processed_at"]


def _mark(event: StripeEvent, outcome: Outcome) -> None:
    event.status = outcome.status
    event.entry = outcome.entry
    event.account = outcome.account
    event.note = outcome.note
    event.attempts += 1
    event.processed_at = timezone.now()


def handle_event(event_id: int) -> str:
    """Book one stored event; a no-op if it was handled before. Returns its status.

    Network errors from Stripe lookups propagate (the task retries them); a booking the
    ledger refuses marks the event FAILED for the treasurer to see.
    """
    with transaction.atomic():
        event = StripeEvent.objects.select_for_update().get(pk=event_id)
        if event.status != EventStatus.PENDING:
            return event.status
        _mark(event, _handled(event, _account(event.data)))
        event.save(update_fields=_MARKED)
    return event.status


# --- booking payments in batches -----------------------------------------------------

# A payment's task books the payments waiting with it, up to this many, in one
# transaction (book_card_payments): a burst of card payments then costs a few statements
# per payment rather than some twenty-five. Events are claimed with SKIP LOCKED, so
# workers booking at the same time take different events and never wait for each other.
BATCH_SIZE = 100
PAYMENT_EVENTS = ("checkout.session.completed", "invoice.paid")


def book_event(event_id: int) -> str:
    """The booking task's work: a payment event is booked together with the other payment
    events waiting (up to BATCH_SIZE, one transaction); any other event alone
    (handle_event). Returns the event's status; one query, and no lock, for an event that
    was handled before (by another batch, say).
    """
    row = StripeEvent.objects.filter(pk=event_id).values_list("status", "type").first()
    if row is None:
        raise StripeEvent.DoesNotExist(f"Stripe event {event_id}")
    status, kind = row
    if status != EventStatus.PENDING:
        return status
    if kind in PAYMENT_EVENTS:
        try:
            status_in_batch = _book_batch(event_id)
        except IntegrityError:
            # A booking the batch did not foresee the database refusing: the whole batch
            # is undone, and this event is booked alone (as are the others, by their tasks).
            log.warning("Stripe event %s: batch refused, booking it alone", event_id)
            status_in_batch = None
        if status_in_batch is not None:
            return status_in_batch
    return handle_event(event_id)


def _accounts(events: list[StripeEvent]) -> dict[int, DuesAccount | None]:
    """Each event's dues account: by Stripe customer for all at once, else by reference."""
    customers = {e.data.get("customer") for e in events if isinstance(e.data.get("customer"), str)}
    by_customer = {
        account.stripe_customer_id: account
        for account in DuesAccount.objects.filter(
            stripe_customer_id__in=customers - {""}
        ).select_related("member__branch")
    }
    return {
        e.pk: by_customer.get(e.data.get("customer")) or _account_by_reference(e.data)
        for e in events
    }


def _save_marks(events: list[StripeEvent]) -> None:
    """Save what _mark set on each event, in one UPDATE from a list of values (Django's
    bulk_update writes a CASE per field and row: half of a batch's time, measured)."""
    if not events:
        return
    quote = connection.ops.quote_name
    table = quote(StripeEvent._meta.db_table)
    rows = ", ".join(
        ["(CAST(%s AS BIGINT), %s, CAST(%s AS BIGINT), CAST(%s AS BIGINT), %s)"] * len(events)
    )
    # Names from the model, values as parameters.
    sql = (
        f"WITH v (id, status, entry_id, account_id, note) AS (VALUES {rows}) "  # noqa: S608
        f"UPDATE {table} SET status = v.status, entry_id = v.entry_id, "
        f"account_id = v.account_id, note = v.note, attempts = {table}.attempts + 1, "
        f"processed_at = %s FROM v WHERE {table}.id = v.id"
    )
    params: list[Any] = []
    for event in events:
        params += [event.pk, event.status, event.entry_id, event.account_id, event.note]
    params.append(connection.ops.adapt_datetimefield_value(events[0].processed_at))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _book_batch(event_id: int) -> str | None:
    """Claim this payment event and the other payment events waiting, book them in one
    transaction, and return this event's status (None: another worker holds it)."""
    with transaction.atomic():
        events = list(
            StripeEvent.objects.select_for_update(skip_locked=True)
            .filter(status=EventStatus.PENDING, type__in=PAYMENT_EVENTS)
            .order_by(Case(When(pk=event_id, then=Value(0)), default=Value(1)), "pk")[:BATCH_SIZE]
        )
        accounts = _accounts(events)
        outcomes: dict[int, Outcome] = {}
        paying: list[tuple[StripeEvent, DuesAccount, CardPayment]] = []
        for event in events:
            account = accounts[event.pk]
            payment = _payment_of(event, account) if account is not None else None
            if account is None or payment is None:
                outcomes[event.pk] = _handled(event, account)
            elif not _currency_ok(account, payment.currency):
                outcomes[event.pk] = Outcome(EventStatus.FAILED, account=account, note="currency")
            else:
                paying.append((event, account, payment))
        booked = book_card_payments([payment for _e, _a, payment in paying])
        for (event, account, _payment), result in zip(paying, booked, strict=True):
            if isinstance(result, ValidationError):
                outcomes[event.pk] = Outcome(
                    EventStatus.FAILED, account=account, note=_code(result)
                )
            else:
                outcomes[event.pk] = Outcome(EventStatus.BOOKED, entry=result[0], account=account)
        for event in events:
            _mark(event, outcomes[event.pk])
        _save_marks(events)
    return next((e.status for e in events if e.pk == event_id), None)


# --- reconciliation ------------------------------------------------------------------


@dataclass
class Reconciliation:
    seen: int = 0
    new: int = 0
    booked: int = 0
    retried: int = 0


def reconcile(*, since: datetime | None = None) -> Reconciliation:
    """Ask Stripe for recent events and book whatever the webhook missed, exactly once.

    Also retries events stored earlier whose handling never finished.
    """
    result = Reconciliation()
    if not card_enabled():
        return result
    since = since or timezone.now() - timedelta(days=3)
    for event in providers.stripe().recent_events(since=since):
        stored, created = ingest_event(event)
        result.seen += 1
        result.new += created
        if stored.status == EventStatus.PENDING:
            result.booked += handle_event(stored.pk) == EventStatus.BOOKED
    stale = StripeEvent.objects.filter(
        status=EventStatus.PENDING, received_at__lt=timezone.now() - timedelta(minutes=10)
    ).values_list("pk", flat=True)
    for pk in list(stale):
        result.retried += 1
        result.booked += handle_event(pk) == EventStatus.BOOKED
    return result
