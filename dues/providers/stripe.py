"""Card payments through Stripe: the only module that talks to Stripe.

Stripe learns an opaque reference and amounts, never a name, a phone number or an email.
Every call that creates or changes something carries an idempotency key derived from our
own row, so a retried request (a timeout, a double click) cannot charge twice.
Webhook signatures are checked with the stripe library; events are then booked by
dues.services.card.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import stripe
from django.conf import settings

from dues.models import Method
from dues.providers.base import PaymentProvider

# Events we act on; reconciliation asks Stripe for these only.
HANDLED_EVENTS = (
    "checkout.session.completed",
    "invoice.paid",
    "invoice.payment_failed",
    "charge.refunded",
    "customer.subscription.deleted",
)
NEUTRAL_PRODUCT_NAME = "Monthly contribution"  # shows on Stripe's page: says nothing more


def _plain(obj: Any) -> Any:
    """A StripeObject as plain dicts and lists (what we store and pass around)."""
    if hasattr(obj, "to_dict"):
        return obj.to_dict()
    return obj


class StripeProvider(PaymentProvider):
    method = Method.CARD
    at_counter = False

    def available(self) -> bool:
        """Card payments are offered only when every Stripe setting is present."""
        return bool(
            settings.STRIPE_SECRET_KEY
            and settings.STRIPE_PUBLISHABLE_KEY
            and settings.STRIPE_WEBHOOK_SECRET
        )

    def client(self) -> stripe.StripeClient:
        return stripe.StripeClient(
            settings.STRIPE_SECRET_KEY, max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES
        )

    # --- inbound ---------------------------------------------------------------------

    def verify(self, payload: bytes, signature: str) -> dict[str, Any]:
        """The event, if the signature is ours and fresh; raises ValueError otherwise."""
        if not settings.STRIPE_WEBHOOK_SECRET:
            raise ValueError("webhooks are not configured")
        # The library's own check (HMAC, timestamp tolerance), then plain JSON: what
        # Webhook.construct_event does, without building StripeObjects only to turn them
        # back into dicts (most of the endpoint's own time under load).
        try:
            stripe.WebhookSignature.verify_header(
                payload.decode("utf-8"),
                signature,
                settings.STRIPE_WEBHOOK_SECRET,
                settings.STRIPE_WEBHOOK_TOLERANCE,
            )
            event = json.loads(payload)
        except (stripe.SignatureVerificationError, UnicodeDecodeError) as exc:
            raise ValueError("bad signature") from exc
        if not isinstance(event, dict):
            raise ValueError("not an event")
        return event

    def recent_events(self, *, since: datetime) -> Iterator[dict[str, Any]]:
        """Events of the handled types since `since`, newest first (Stripe keeps 30 days)."""
        page = self.client().v1.events.list(
            params={
                "created": {"gte": int(since.timestamp())},
                "types": list(HANDLED_EVENTS),
                "limit": 100,
            }
        )
        for event in page.auto_paging_iter():
            yield _plain(event)

    def refunds_of_charge(self, charge_id: str) -> list[dict[str, Any]]:
        page = self.client().v1.refunds.list(params={"charge": charge_id, "limit": 100})
        return [_plain(refund) for refund in page.auto_paging_iter()]

    def invoice_of_payment_intent(self, payment_intent: str) -> str | None:
        """The invoice a subscription payment belongs to, if any."""
        page = self.client().v1.invoice_payments.list(
            params={
                "payment": {"type": "payment_intent", "payment_intent": payment_intent},
                "limit": 1,
            }
        )
        for item in page.data:
            invoice = getattr(item, "invoice", None)
            return invoice if isinstance(invoice, str) else getattr(invoice, "id", None)
        return None

    # --- outbound --------------------------------------------------------------------

    def create_customer(self, *, reference: str) -> str:
        customer = self.client().v1.customers.create(
            params={"metadata": {"ref": reference}},
            options={"idempotency_key": f"customer-{reference}"},
        )
        return str(customer.id)

    def create_checkout(
        self,
        *,
        token: str,
        customer_id: str,
        reference: str,
        currency: str,
        unit_amount: int,
        quantity: int,
        subscription: bool,
        success_url: str,
        cancel_url: str,
        locale: str,
    ) -> tuple[str, str]:
        """Open a Checkout session; returns (session id, the page to send the member to)."""
        price: dict[str, Any] = {
            "currency": currency.lower(),
            "unit_amount": unit_amount,
            "product_data": {"name": NEUTRAL_PRODUCT_NAME},
        }
        params: dict[str, Any] = {
            "customer": customer_id,
            "client_reference_id": token,
            "metadata": {"ref": token},
            "line_items": [{"price_data": price, "quantity": quantity}],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "locale": locale if locale in ("en", "fr") else "auto",
        }
        if subscription:
            price["recurring"] = {"interval": "month"}
            params["mode"] = "subscription"
            params["subscription_data"] = {"metadata": {"ref": reference}}
        else:
            params["mode"] = "payment"
            params["payment_intent_data"] = {"metadata": {"ref": token}}
        session = self.client().v1.checkout.sessions.create(
            params=params,  # type: ignore[arg-type]
            options={"idempotency_key": f"checkout-{token}"},
        )
        return str(session.id), str(session.url)

    def cancel_subscription(self, subscription_id: str) -> None:
        self.client().v1.subscriptions.cancel(
            subscription_id, options={"idempotency_key": f"cancel-{subscription_id}"}
        )
