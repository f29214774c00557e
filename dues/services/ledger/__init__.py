"""The member's dues ledger: every row written to it goes through a function here.

- counter: cash and mobile money taken by an officer, and the second officer's confirmation
- corrections: waivers and corrections (reversal rows)
- card_payments: card payments and refunds booked from Stripe events, in batches
- counting: what happens when a row starts to count (the funds' share, settling the oldest
  charges, the member's standing) and what a member owes
"""

from __future__ import annotations

from dues.services.ledger.card_payments import (
    CardPayment,
    book_card_payment,
    book_card_payments,
    book_card_refund,
)
from dues.services.ledger.corrections import grant_waiver, reverse_entry
from dues.services.ledger.counter import confirm_payment, record_payment
from dues.services.ledger.counting import owed

__all__ = [
    "CardPayment",
    "book_card_payment",
    "book_card_payments",
    "book_card_refund",
    "confirm_payment",
    "grant_waiver",
    "owed",
    "record_payment",
    "reverse_entry",
]
