"""For an external monitor (cron, systemd timer, a health checker): exits 1 when the
escalation sweep has not run for 3 minutes. Beat and the workers can both be down; then
the in-app watchdog (a periodic job too) cannot speak, but this can."""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from crisis.models import SweepHeartbeat
from crisis.services.dispatch import SWEEP
from crisis.services.upkeep import STALL_AFTER


class Command(BaseCommand):
    help = "Exit 1 when the crisis escalation sweep has stalled (no run for 3 minutes)."

    def handle(self, *args: Any, **options: Any) -> None:
        beat = SweepHeartbeat.objects.filter(name=SWEEP).first()
        if beat is None:
            self.stdout.write("The escalation sweep has never run.")
            return
        age = timezone.now() - beat.last_run_at
        if age >= STALL_AFTER:
            self.stderr.write(f"The escalation sweep last ran {int(age.total_seconds())} s ago.")
            sys.exit(1)
        self.stdout.write(f"The escalation sweep ran {int(age.total_seconds())} s ago.")
