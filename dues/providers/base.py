from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CounterDetails:
    """What a counter method needs besides the amount: the operator and its reference."""

    provider: str = ""
    external_id: str = ""


class PaymentProvider:
    """One payment method. Subclasses say whether it is usable and how its entries look."""

    method: str = ""
    # Recorded by an officer who took the money (cash, mobile money), not by the payer online.
    at_counter: bool = False

    def available(self) -> bool:
        return True

    def clean_details(self, *, provider: str, external_id: str) -> CounterDetails:
        """Normalise and check the method's details; raise ValidationError if incomplete."""
        return CounterDetails()
