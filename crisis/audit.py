"""The crisis app's audit actions, registered with the core in CrisisConfig.ready().

Targets are opaque ("callout:<uuid>", "slot:<id>"), never names or codes.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CrisisAction(models.TextChoices):
    LOG = "crisis.log", _("Logged a call-out")
    REPORT = "crisis.report", _("Reported a call-out as a member")
    VIEW = "crisis.view", _("Viewed a call-out")
    ANSWER = "crisis.answer", _("Answered a call-out alert")
    CLOSE = "crisis.close", _("Closed a call-out")
    NOTE = "crisis.note", _("Added a note to a call-out")
    MERGE = "crisis.merge", _("Merged two call-outs")
    UNMERGE = "crisis.unmerge", _("Undid a merge of call-outs")
    ROTA = "crisis.rota", _("Changed the crisis rota")
    SETTINGS = "crisis.settings", _("Changed a branch's crisis settings")
    REACHABLE = "crisis.reachable", _("Marked a responder reachable again")
    FIGURES = "crisis.figures", _("Exported crisis response figures")
    SHARE = "crisis.share", _("Shared a call-out outside the union")
    ERASE = "crisis.erase", _("Erased the free text of old call-outs")
    ALERT = "crisis.alert", _("Drafted, published or withdrew a safety alert")
    CASE = "crisis.case", _("Opened, viewed or changed a legal case")
