"""Real-shaped Stripe event payloads (API version 2026-10-28), as Stripe sends them.

They carry the personal fields Stripe's own objects have (customer_details, billing
details) so that tests can check we never store them.
"""

from __future__ import annotations

from typing import Any

API_VERSION = "2026-10-28.endive"
CREATED = 1795000000  # 2026-11-18, a fixed moment so that every path books the same day


def event(event_id: str, type_: str, obj: dict[str, Any], created: int = CREATED) -> dict[str, Any]:
    return {
        "id": event_id,
        "object": "event",
        "api_version": API_VERSION,
        "created": created,
        "data": {"object": obj},
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
    }


def checkout_completed(
    event_id: str,
    *,
    session: str,
    customer: str,
    amount: int,
    currency: str = "xof",
    payment_intent: str | None = None,
    ref: str | None = None,
    subscription: str | None = None,
) -> dict[str, Any]:
    mode = "subscription" if subscription else "payment"
    return event(
        event_id,
        "checkout.session.completed",
        {
            "id": session,
            "object": "checkout.session",
            "amount_subtotal": amount,
            "amount_total": amount,
            "client_reference_id": ref,
            "created": CREATED,
            "currency": currency,
            "customer": customer,
            "customer_details": {
                "address": {"country": "ML"},
                "email": "someone@example.org",
                "name": "Legal Name Of Card Holder",
                "phone": None,
            },
            "livemode": False,
            "metadata": {"ref": ref} if ref else {},
            "mode": mode,
            "payment_intent": payment_intent,
            "payment_status": "paid",
            "status": "complete",
            "subscription": subscription,
            "success_url": "https://example.org/dues/my/?paid=1",
        },
    )


def invoice_event(
    event_id: str,
    type_: str,
    *,
    invoice: str,
    customer: str,
    amount: int,
    subscription: str,
    currency: str = "xof",
    ref: str | None = None,
) -> dict[str, Any]:
    paid = type_ == "invoice.paid"
    return event(
        event_id,
        type_,
        {
            "id": invoice,
            "object": "invoice",
            "amount_due": amount,
            "amount_paid": amount if paid else 0,
            "amount_remaining": 0 if paid else amount,
            "billing_reason": "subscription_cycle",
            "created": CREATED,
            "currency": currency,
            "customer": customer,
            "customer_email": "someone@example.org",
            "customer_name": "Legal Name Of Card Holder",
            "parent": {
                "quote_details": None,
                "subscription_details": {
                    "metadata": {"ref": ref} if ref else {},
                    "subscription": subscription,
                },
                "type": "subscription_details",
            },
            "status": "paid" if paid else "open",
        },
    )


def charge_refunded(
    event_id: str,
    *,
    charge: str,
    customer: str,
    payment_intent: str,
    amount: int,
    refunded: int,
    currency: str = "xof",
) -> dict[str, Any]:
    return event(
        event_id,
        "charge.refunded",
        {
            "id": charge,
            "object": "charge",
            "amount": amount,
            "amount_captured": amount,
            "amount_refunded": refunded,
            "billing_details": {"email": "someone@example.org", "name": "Legal Name"},
            "captured": True,
            "created": CREATED,
            "currency": currency,
            "customer": customer,
            "paid": True,
            "payment_intent": payment_intent,
            "refunded": refunded == amount,
            "status": "succeeded",
        },
    )


def refund(refund_id: str, *, charge: str, amount: int, currency: str = "xof") -> dict[str, Any]:
    return {
        "id": refund_id,
        "object": "refund",
        "amount": amount,
        "charge": charge,
        "created": CREATED,
        "currency": currency,
        "status": "succeeded",
    }


def subscription_deleted(
    event_id: str, *, subscription: str, customer: str, amount: int
) -> dict[str, Any]:
    return event(
        event_id,
        "customer.subscription.deleted",
        {
            "id": subscription,
            "object": "subscription",
            "customer": customer,
            "status": "canceled",
            "items": {
                "object": "list",
                "data": [{"id": "si_1", "price": {"id": "price_1", "unit_amount": amount}}],
            },
        },
    )
