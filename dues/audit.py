"""The dues app's audit actions, registered with the core in DuesConfig.ready()."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DuesAction(models.TextChoices):
    VIEW = "dues.view", _("Viewed a member's dues")
    PAYMENT = "dues.payment", _("Recorded a dues payment")
    CONFIRM = "dues.confirm", _("Confirmed a dues payment")
    WAIVER = "dues.waiver", _("Granted a dues waiver")
    REVERSAL = "dues.reversal", _("Corrected a ledger entry")
    RATE = "dues.rate", _("Changed a member's dues rate")
    PLAN = "dues.plan", _("Changed a dues plan")
    CLOSE = "dues.close", _("Closed a cash book")
    EXPORT = "dues.export", _("Exported the dues ledger")
    MOVE_OUT = "dues.move_out", _("Closed the dues account of a member who moved away")
    MOVE_IN = "dues.move_in", _("Opened the dues account of a member who moved in")
    EXCHANGE_RATE = "dues.exchange_rate", _("Recorded an exchange rate")
