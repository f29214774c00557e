"""Payment methods behind one small interface.

Cash is the simplest: an officer takes the money and the entry is the confirmation.
Mobile money is cash with an operator and its transaction reference. Card payments go
through Stripe, and only when it is configured: nothing in the union depends on it.
"""

from __future__ import annotations

from dues.models import Method
from dues.providers.base import PaymentProvider
from dues.providers.cash import CashProvider, MobileMoneyProvider
from dues.providers.stripe import StripeProvider

PROVIDERS: dict[str, PaymentProvider] = {
    Method.CASH: CashProvider(),
    Method.MOBILE_MONEY: MobileMoneyProvider(),
    Method.CARD: StripeProvider(),
}


def get_provider(method: str) -> PaymentProvider:
    return PROVIDERS[method]


def counter_methods() -> list[PaymentProvider]:
    """Methods an officer records at the counter (cash, mobile money)."""
    return [p for p in PROVIDERS.values() if p.at_counter and p.available()]


def stripe() -> StripeProvider:
    provider = PROVIDERS[Method.CARD]
    assert isinstance(provider, StripeProvider)  # noqa: S101 - the registry above
    return provider


__all__ = ["PROVIDERS", "PaymentProvider", "counter_methods", "get_provider", "stripe"]
