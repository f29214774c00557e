"""The votes app's audit actions, registered with the core in VotesConfig.ready()."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class VoteAction(models.TextChoices):
    CREATE = "vote.create", _("Created a vote")
    SCHEDULE = "vote.schedule", _("Scheduled a vote")
    OPEN = "vote.open", _("Opened a vote and froze its roll")
    CLOSE = "vote.close", _("Closed a vote")
    PUBLISH = "vote.publish", _("Published a vote result")
    HOLD = "vote.hold", _("Held back a vote result")
    CANCEL = "vote.cancel", _("Cancelled a vote")
    VIEW_MARKS = "vote.marks", _("Viewed who voted")
    CHECK_IN = "vote.checkin", _("Checked a member in to vote")
    TALLY = "vote.tally", _("Entered a paper ballot tally")
    ROLES = "vote.roles", _("Turned an election result into roles")
    OPTION_ADD = "vote.option_add", _("Added a candidate or choice to a draft vote")
    OPTION_REMOVE = "vote.option_remove", _("Removed a candidate or choice from a draft vote")
    RECOUNT = "vote.recount", _("Counted a held vote again")
    TELLER_ADD = "vote.teller_add", _("Added a teller to a vote")
    TELLER_REMOVE = "vote.teller_remove", _("Removed a teller from a vote")
    SHEET_MADE = "vote.sheet_made", _("Made a teller's key sheet")
    SHEET_CONFIRM = "vote.sheet_confirm", _("Confirmed a teller's key sheet")
    SHEET_RESET = "vote.sheet_reset", _("Reset a teller's lost key sheet")
    UNSEAL = "vote.unseal", _("Opened a vote's ballot box with the tellers' key sheets")
