"""Book the card payments whose webhook never arrived: manage.py reconcile_stripe [--days 3]

Asks Stripe for recent events and books each one not booked yet, exactly once (events are
unique by id, bookings by Stripe payment id). The daily beat job does the same.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from dues.services import card


class Command(BaseCommand):
    help = "List recent Stripe events and book what the webhook missed."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--days", type=int, default=3, help="how far back (Stripe keeps 30)")

    def handle(self, *args: Any, days: int, **options: Any) -> None:
        if not card.card_enabled():
            raise CommandError("Stripe is not configured (STRIPE_SECRET_KEY and friends).")
        if not 1 <= days <= 30:
            raise CommandError("--days must be between 1 and 30.")
        result = card.reconcile(since=timezone.now() - timedelta(days=days))
        self.stdout.write(
            f"{result.seen} events seen, {result.new} new, {result.booked} booked, "
            f"{result.retried} retried."
        )
