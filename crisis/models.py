"""Crisis response: call-outs, their timeline and notes, the on-call rota, dispatches to
responders with reply codes, stored escalation deadlines, and inbound SMS replies.

Free text (where, who, what happened, notes) is encrypted at rest and erased after the
branch's retention period; the timestamps and codes that make the anonymous figures stay.
Everything here is written only through crisis.services.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import gettext_lazy as _

from union.crypto import EncryptedTextField
from union.models import AppendOnlyModel, Branch, Member

# --- call-outs -------------------------------------------------------------------------


class CalloutType(models.TextChoices):
    ARREST = "arrest", _("Arrest or detention")
    RAID = "raid", _("Police raid")
    CLIENT_VIOLENCE = "client_violence", _("Violence by a client")
    PARTNER_VIOLENCE = "partner_violence", _("Violence by a partner")
    POLICE_VIOLENCE = "police_violence", _("Violence by the police")
    EVICTION = "eviction", _("Eviction")
    HEALTH = "health", _("Health emergency")
    OTHER = "other", _("Other")


class Urgency(models.IntegerChoices):
    # Integers so that "most urgent first" is a plain ORDER BY.
    URGENT = 1, _("Urgent: in danger now")
    TODAY = 2, _("Today")
    ROUTINE = 3, _("Can wait a day or two")


class Need(models.TextChoices):
    LEGAL = "legal", _("Legal aid")
    BAIL = "bail", _("Bail")
    MEDICAL = "medical", _("Medical care")
    SHELTER = "shelter", _("Shelter")
    ACCOMPANIMENT = "accompaniment", _("Someone to go with them")


class Source(models.TextChoices):
    HELPLINE = "helpline", _("Helpline call")
    WALK_IN = "walk_in", _("Walk-in")
    SMS = "sms", _("Text message")
    OUTREACH = "outreach", _("Outreach")
    MEMBER = "member", _("A member's own report")


class CalloutStatus(models.TextChoices):
    REPORTED = "reported", _("Reported")
    DISPATCHED = "dispatched", _("Dispatched")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    ON_SCENE = "on_scene", _("On scene")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


# Someone may still need to go: these are on the dashboard and escalate.
OPEN_STATUSES = (
    CalloutStatus.REPORTED,
    CalloutStatus.DISPATCHED,
    CalloutStatus.ACKNOWLEDGED,
    CalloutStatus.ON_SCENE,
)
# A reply to these is "already closed".
FINISHED_STATUSES = (CalloutStatus.RESOLVED, CalloutStatus.CLOSED)

# The allowed moves; every service refuses any other. ACKNOWLEDGED -> DISPATCHED is the
# system taking a call-out back from a responder who accepted and never arrived (or
# withdrew), to alert the next person.
TRANSITIONS: dict[str, frozenset[str]] = {
    CalloutStatus.REPORTED: frozenset(
        {
            CalloutStatus.DISPATCHED,
            CalloutStatus.ACKNOWLEDGED,
            CalloutStatus.RESOLVED,
            CalloutStatus.CLOSED,
        }
    ),
    CalloutStatus.DISPATCHED: frozenset(
        {CalloutStatus.ACKNOWLEDGED, CalloutStatus.RESOLVED, CalloutStatus.CLOSED}
    ),
    CalloutStatus.ACKNOWLEDGED: frozenset(
        {
            CalloutStatus.DISPATCHED,
            CalloutStatus.ON_SCENE,
            CalloutStatus.RESOLVED,
            CalloutStatus.CLOSED,
        }
    ),
    CalloutStatus.ON_SCENE: frozenset({CalloutStatus.RESOLVED, CalloutStatus.CLOSED}),
    CalloutStatus.RESOLVED: frozenset({CalloutStatus.CLOSED}),
    CalloutStatus.CLOSED: frozenset(),
}


class Outcome(models.TextChoices):
    HELPED = "helped", _("Help given")
    RELEASED = "released", _("Released from custody")
    REFERRED = "referred", _("Referred to a lawyer, clinic or shelter")
    NOT_REACHED = "not_reached", _("Could not reach the person")
    NOT_NEEDED = "not_needed", _("Help no longer needed")
    OTHER = "other", _("Other")


REPLY_CODE_REGEX = r"^[0-9]{4,6}$"


class Callout(models.Model):
    """Someone needs the crisis team. The reply code is what responders text back.

    A reply code is held (unique among held codes) from the call-out's creation until 30
    days after it closes, so a code is never sent to anyone for two call-outs within 30
    days, and a late reply to an old code can never land on a new call-out.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    branch = models.ForeignKey(
        Branch, on_delete=models.PROTECT, related_name="callouts", verbose_name=_("branch")
    )
    kind = models.CharField(_("what happened"), max_length=20, choices=CalloutType.choices)
    urgency = models.PositiveSmallIntegerField(_("urgency"), choices=Urgency.choices)
    source = models.CharField(_("how it reached us"), max_length=10, choices=Source.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=CalloutStatus.choices, default=CalloutStatus.REPORTED
    )
    # Who needs help: a member found by number, or a non-member described minimally.
    member = models.ForeignKey(
        Member,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="callouts",
        verbose_name=_("member"),
    )
    person_description = EncryptedTextField(_("who needs help"), blank=True, default="")
    needs = models.JSONField(_("what is needed"), default=list, blank=True)  # Need values
    area = EncryptedTextField(_("where (area)"), blank=True, default="")
    narrative = EncryptedTextField(_("what happened"), blank=True, default="")
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    code = models.CharField(_("reply code"), max_length=6)
    code_held = models.BooleanField(default=True)
    reported_by = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The clock of the figures: each is set once, at the first time it happens.
    reported_at = models.DateTimeField(_("reported"), default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    arrived_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Where the escalation chain stands: step 0 primary, 1 backup, 2 coordinator; round 0
    # is the first pass. -1: nobody alerted yet.
    chain_step = models.SmallIntegerField(default=-1)
    chain_round = models.PositiveSmallIntegerField(default=0)
    escalations = models.PositiveSmallIntegerField(default=0)  # times it moved on unanswered
    unanswered_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged"
    )
    share_consent = models.BooleanField(
        _("the person agrees that this report may be shared outside the union"), default=False
    )
    erased_at = models.DateTimeField(null=True, blank=True)  # free text removed (retention)

    class Meta:
        verbose_name = _("call-out")
        verbose_name_plural = _("call-outs")
        constraints = [
            models.UniqueConstraint(
                fields=["code"], condition=Q(code_held=True), name="callout_code_held_once"
            ),
            models.CheckConstraint(
                condition=Q(code__regex=REPLY_CODE_REGEX), name="callout_code_digits"
            ),
            models.CheckConstraint(
                condition=~Q(status=CalloutStatus.CLOSED) | Q(closed_at__isnull=False),
                name="callout_closed_has_time",
            ),
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True) | ~Q(merged_into=F("id")),
                name="callout_not_merged_into_itself",
            ),
            models.CheckConstraint(
                condition=Q(chain_step__gte=-1, chain_step__lte=2), name="callout_chain_step"
            ),
        ]
        indexes = [
            models.Index(fields=["branch", "status", "reported_at"], name="callout_branch_status"),
            models.Index(fields=["branch", "reported_at"], name="callout_branch_reported"),
            models.Index(
                fields=["closed_at"], condition=Q(erased_at__isnull=True), name="callout_to_erase"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES and self.merged_into_id is None

    def need_labels(self) -> list[str]:
        labels = dict(Need.choices)
        return [str(labels[n]) for n in self.needs if n in labels]


# The roles of DispatchRole (below), for the timeline's labels.
ROLE_CHOICES = [
    ("primary", _("primary responder")),
    ("backup", _("backup responder")),
    ("coordinator", _("crisis coordinator")),
    ("volunteer", _("responder who took it on")),
]
CHANNEL_CHOICES = [("web", _("on the website")), ("sms", _("by SMS"))]


class StepKind(models.TextChoices):
    REPORTED = "reported", _("Reported")
    DISPATCHED = "dispatched", _("Alert sent")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    DECLINED = "declined", _("Could not go")
    DECLINED_LATE = "declined_late", _("Could not go (escalation had moved on)")
    ON_SCENE = "on_scene", _("On scene")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REMINDED = "reminded", _("Reminded to confirm arrival")
    NO_ARRIVAL = "no_arrival", _("No arrival confirmed: escalation restarted")
    NOBODY = "nobody", _("Nobody on duty to alert")
    UNANSWERED = "unanswered", _("Unanswered after every escalation")
    MERGED = "merged", _("Merged")
    UNMERGED = "unmerged", _("Merge undone")
    DELIVERED = "delivered", _("Alert delivered")
    DELIVERY_FAILED = "delivery_failed", _("Alert not delivered")
    UNREACHABLE = "unreachable", _("Responder asked for no more texts")
    SHARED = "shared", _("Shared outside the union")
    ERASED = "erased", _("Free text erased (retention period)")


class CalloutStep(AppendOnlyModel):
    """One line of a call-out's timeline: what happened, when, and who did it (None: the
    system). Never edited (PostgreSQL refuses too)."""

    callout = models.ForeignKey(Callout, on_delete=models.PROTECT, related_name="steps")
    kind = models.CharField(max_length=16, choices=StepKind.choices)
    at = models.DateTimeField(default=timezone.now)
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(max_length=12, blank=True, choices=ROLE_CHOICES)
    channel = models.CharField(max_length=8, blank=True, choices=CHANNEL_CHOICES)
    # For merges: the other call-out; for delivery: minutes from alert to delivery.
    other = models.ForeignKey(
        Callout, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    minutes = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["callout", "at"], name="callout_step_timeline")]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.at:%Y-%m-%d %H:%M}"


class CalloutNote(models.Model):
    """A note by the crisis team. Encrypted; erased with the other free text."""

    callout = models.ForeignKey(Callout, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    text = EncryptedTextField(_("note"))

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"note {self.pk}"


# --- the branch's settings -------------------------------------------------------------


class CrisisSettings(models.Model):
    """How a branch's crisis team works. A branch without a row uses the defaults."""

    branch = models.OneToOneField(
        Branch, on_delete=models.PROTECT, related_name="crisis_settings", verbose_name=_("branch")
    )
    answer_minutes = models.PositiveSmallIntegerField(
        _("minutes to answer an alert before it goes to the next person"), default=10
    )
    urgent_answer_minutes = models.PositiveSmallIntegerField(
        _("the same for urgent call-outs"), default=5
    )
    arrive_minutes = models.PositiveSmallIntegerField(
        _("minutes to confirm arrival after accepting"), default=45
    )
    chain_repeats = models.PositiveSmallIntegerField(
        _("times the whole chain is tried again before a call-out shows as unanswered"),
        default=2,
    )
    retention_days = models.PositiveSmallIntegerField(
        _("days after closing before free text is erased"), default=365
    )
    # The branch's own reply words, per action: {"ok": ["oui"], "no": ["non"], ...}.
    keywords = models.JSONField(_("reply words"), default=dict, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("crisis settings")
        verbose_name_plural = _("crisis settings")
        constraints = [
            models.CheckConstraint(
                condition=Q(answer_minutes__gte=1, answer_minutes__lte=240),
                name="crisis_answer_minutes_range",
            ),
            models.CheckConstraint(
                condition=Q(urgent_answer_minutes__gte=1)
                & Q(urgent_answer_minutes__lte=F("answer_minutes")),
                name="crisis_urgent_not_slower",
            ),
            models.CheckConstraint(
                condition=Q(arrive_minutes__gte=5, arrive_minutes__lte=720),
                name="crisis_arrive_minutes_range",
            ),
            models.CheckConstraint(
                condition=Q(chain_repeats__lte=10), name="crisis_chain_repeats_bounded"
            ),
            models.CheckConstraint(
                condition=Q(retention_days__gte=30), name="crisis_retention_at_least_30_days"
            ),
        ]

    def __str__(self) -> str:
        return f"crisis settings {self.branch_id}"

    def answer_delay_minutes(self, urgency: int) -> int:
        return self.urgent_answer_minutes if urgency == Urgency.URGENT else self.answer_minutes


# --- the rota --------------------------------------------------------------------------


class Position(models.TextChoices):
    PRIMARY = "primary", _("Primary")
    BACKUP = "backup", _("Backup")


WEEKDAYS_ALL = 0b1111111  # bit 0 Monday ... bit 6 Sunday


class RotaSlot(models.Model):
    """Who is on duty when, in the branch's local time (its IANA time zone).

    The slot repeats on the weekdays of `weekdays` (a bit per day, Monday = bit 0) between
    two dates; the shift runs from `starts_at` to `ends_at` local clock time, through
    midnight when it ends at or before it starts (a start equal to the end is 24 hours).
    A temporary slot (a rota for a date range, or a swap) replaces the regular ones of the
    same position for the hours it covers. The responder's phone is the one in the register.
    """

    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="rota_slots")
    position = models.CharField(_("position"), max_length=8, choices=Position.choices)
    responder = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="rota_slots", verbose_name=_("responder")
    )
    weekdays = models.PositiveSmallIntegerField(_("days"), default=WEEKDAYS_ALL)
    starts_at = models.TimeField(_("from (local time)"))
    ends_at = models.TimeField(_("until (local time)"))
    valid_from = models.DateField(_("first day"))
    valid_until = models.DateField(_("last day"), null=True, blank=True)
    temporary = models.BooleanField(_("temporary (replaces the regular rota)"), default=False)
    replaces = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="swaps"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["branch", "position", "starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weekdays__gte=1, weekdays__lte=WEEKDAYS_ALL), name="rota_weekdays"
            ),
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True) | Q(valid_until__gte=F("valid_from")),
                name="rota_dates_in_order",
            ),
        ]
        indexes = [models.Index(fields=["branch", "valid_until"], name="rota_branch_until")]

    def __str__(self) -> str:
        return f"{self.position} {self.starts_at:%H:%M}-{self.ends_at:%H:%M}"

    @property
    def overnight(self) -> bool:
        return self.ends_at <= self.starts_at

    def weekday_list(self) -> list[int]:
        return [day for day in range(7) if self.weekdays & (1 << day)]

    def weekday_labels(self) -> str:
        return ", ".join(str(WEEKDAYS_ABBR[day]) for day in self.weekday_list())


class ResponderState(models.Model):
    """What the crisis app knows about a responder beyond the register: whether they
    texted STOP, and how many replies that change nothing they may still get."""

    member = models.OneToOneField(Member, on_delete=models.PROTECT, related_name="crisis_state")
    unreachable_since = models.DateTimeField(null=True, blank=True)  # texted STOP
    # Replies that are not an action (HELP, an unknown code...) until the next alert.
    quiet_replies_left = models.PositiveSmallIntegerField(default=5)

    def __str__(self) -> str:
        return f"responder state {self.member_id}"


# --- dispatch and escalation -----------------------------------------------------------


class DispatchRole(models.TextChoices):
    PRIMARY = "primary", _("primary responder")
    BACKUP = "backup", _("backup responder")
    COORDINATOR = "coordinator", _("crisis coordinator")
    VOLUNTEER = "volunteer", _("responder who took it on")


CHAIN = (DispatchRole.PRIMARY, DispatchRole.BACKUP, DispatchRole.COORDINATOR)


class DispatchState(models.TextChoices):
    ALERTED = "alerted", _("Waiting for an answer")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Could not go")
    LAPSED = "lapsed", _("Accepted, never arrived")


class Dispatch(models.Model):
    """One alert to one responder for one call-out, at one place in the escalation chain."""

    callout = models.ForeignKey(Callout, on_delete=models.PROTECT, related_name="dispatches")
    responder = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="dispatches")
    role = models.CharField(max_length=12, choices=DispatchRole.choices)
    step = models.SmallIntegerField()  # CHAIN index; -1 for a volunteer
    round = models.PositiveSmallIntegerField(default=0)
    state = models.CharField(
        max_length=8, choices=DispatchState.choices, default=DispatchState.ALERTED
    )
    alerted_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    delivery_failed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # Two sweeps at once cannot alert the same person twice at the same place.
            models.UniqueConstraint(
                fields=["callout", "responder", "step", "round"], name="dispatch_once_per_place"
            ),
            # The first acceptance wins; a second one is refused by the database too.
            models.UniqueConstraint(
                fields=["callout"],
                condition=Q(state=DispatchState.ACCEPTED),
                name="dispatch_one_accepted",
            ),
        ]
        indexes = [models.Index(fields=["responder", "state"], name="dispatch_responder_state")]

    def __str__(self) -> str:
        return f"dispatch {self.pk} ({self.role}, {self.state})"

    @property
    def dedupe_key(self) -> str:
        """The outbox key of this dispatch's alert."""
        return alert_key(self.pk)


def alert_key(dispatch_id: int) -> str:
    """The outbox key of a dispatch's alert: one text per dispatch, however often asked."""
    return f"crisis-alert:{dispatch_id}"


class DeadlineKind(models.TextChoices):
    ANSWER = "answer", _("Waiting for an answer")
    ARRIVAL = "arrival", _("Waiting for arrival")
    ARRIVAL_REMINDED = "reminded", _("Waiting for arrival after a reminder")


class DeadlineState(models.TextChoices):
    PENDING = "pending", _("Pending")
    FIRED = "fired", _("Fired")
    CANCELLED = "cancelled", _("Cancelled")


class EscalationDeadline(models.Model):
    """When the next escalation step is due. Stored, so a restart or a broker outage delays
    an escalation but never loses it; claimed by a conditional UPDATE, so it fires once."""

    callout = models.ForeignKey(Callout, on_delete=models.PROTECT, related_name="deadlines")
    kind = models.CharField(max_length=8, choices=DeadlineKind.choices)
    due_at = models.DateTimeField()
    state = models.CharField(
        max_length=9, choices=DeadlineState.choices, default=DeadlineState.PENDING
    )
    created_at = models.DateTimeField(default=timezone.now)
    fired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["callout"],
                condition=Q(state=DeadlineState.PENDING),
                name="deadline_one_pending_per_callout",
            ),
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=Q(state=DeadlineState.PENDING),
                name="deadline_pending_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} due {self.due_at:%Y-%m-%d %H:%M} ({self.state})"


class SweepHeartbeat(models.Model):
    """The last time the escalation sweep ran (one row), and the last stall alert."""

    name = models.CharField(max_length=32, primary_key=True)
    last_run_at = models.DateTimeField()
    last_alert_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} {self.last_run_at:%H:%M:%S}"


# --- inbound SMS -----------------------------------------------------------------------


class ReplyOutcome(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    STALE = "stale", _("Too late: taken or closed")
    UNKNOWN_CODE = "unknown_code", _("Unknown code")
    UNKNOWN_NUMBER = "unknown_number", _("Unknown number")
    AMBIGUOUS = "ambiguous", _("Several open call-outs; no code")
    NONE_OPEN = "none_open", _("No open call-out")
    UNREADABLE = "unreadable", _("Not understood")
    HELP = "help", _("Asked for help")
    STOP = "stop", _("Asked for no more texts")
    NO_EFFECT = "no_effect", _("Changed nothing")


class InboundSms(models.Model):
    """A reply received from the SMS provider, once per provider message id. Neither the
    text nor the number is kept: only what it did."""

    provider = models.CharField(max_length=16)
    message_id = models.CharField(max_length=100)
    received_at = models.DateTimeField(default=timezone.now)
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    callout = models.ForeignKey(
        Callout, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(max_length=16, choices=ReplyOutcome.choices, blank=True)
    # We answered with a text that is not the confirmation of an action (HELP, an unknown
    # code...): at most a few of those per number until its next alert.
    quiet_reply = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "message_id"], name="inbound_sms_once_per_provider_id"
            ),
        ]
        indexes = [models.Index(fields=["member", "received_at"], name="inbound_sms_member")]

    def __str__(self) -> str:
        return f"{self.provider} {self.message_id} ({self.outcome})"


class DeliveryReport(models.Model):
    """A delivery report from the SMS provider for one alert, once per status."""

    provider = models.CharField(max_length=16)
    message_id = models.CharField(max_length=100)
    status = models.CharField(max_length=32)  # the provider's word: Success, Failed, delivered...
    failed = models.BooleanField(default=False)
    received_at = models.DateTimeField(default=timezone.now)
    dispatch = models.ForeignKey(
        Dispatch, null=True, blank=True, on_delete=models.PROTECT, related_name="reports"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "message_id", "status"], name="delivery_report_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.message_id} {self.status}"


# --- safety alerts ---------------------------------------------------------------------


class AlertKind(models.TextChoices):
    VIOLENT_CLIENT = "violent_client", _("A violent or dangerous client")
    POLICE_OPERATION = "police", _("A police operation")
    OTHER = "other", _("Another danger")


class AlertStatus(models.TextChoices):
    DRAFT = "draft", _("Draft, waiting for review")
    PUBLISHED = "published", _("Published")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class SafetyAlert(models.Model):
    """A warning to the branch's members (Maggie's bad-client list, Ugly Mugs): drafted by
    the crisis team from a report, published by a coordinator after review against the
    written criteria, sent to members who agreed to alerts, and always expiring. It says
    nothing that identifies the member who reported it."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="safety_alerts")
    kind = models.CharField(_("about"), max_length=16, choices=AlertKind.choices)
    status = models.CharField(max_length=10, choices=AlertStatus.choices, default=AlertStatus.DRAFT)
    # Where the report came from; kept for the team, never shown to members.
    callout = models.ForeignKey(
        Callout, null=True, blank=True, on_delete=models.PROTECT, related_name="safety_alerts"
    )
    from_outreach = models.BooleanField(_("reported by an outreach worker"), default=False)
    consent_recorded = models.BooleanField(
        _("the member who reported it agreed to this alert"), default=False
    )
    drafted_by = models.ForeignKey(Member, null=True, on_delete=models.PROTECT, related_name="+")
    drafted_at = models.DateTimeField(default=timezone.now)
    reviewed_by = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    published_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"))

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=AlertStatus.PUBLISHED)
                | Q(published_at__isnull=False, reviewed_by__isnull=False),
                name="safety_alert_published_after_review",
            ),
            models.CheckConstraint(
                condition=Q(from_outreach=False)
                | Q(consent_recorded=True)
                | ~Q(status=AlertStatus.PUBLISHED),
                name="safety_alert_outreach_needs_consent",
            ),
        ]
        indexes = [models.Index(fields=["branch", "status", "expires_at"], name="alert_current")]

    def __str__(self) -> str:
        return f"alert {self.pk} ({self.status})"


class SafetyAlertText(models.Model):
    """The alert's words in one language of the branch."""

    alert = models.ForeignKey(SafetyAlert, on_delete=models.CASCADE, related_name="texts")
    language = models.CharField(max_length=10, choices=settings.LANGUAGES)
    body = EncryptedTextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["alert", "language"], name="alert_text_per_language")
        ]

    def __str__(self) -> str:
        return f"alert {self.alert_id} {self.language}"


# --- legal follow-up -------------------------------------------------------------------


class CaseOutcome(models.TextChoices):
    DROPPED = "dropped", _("Charges dropped")
    RELEASED = "released", _("Released (bail or without charge)")
    ACQUITTED = "acquitted", _("Acquitted")
    FINED = "fined", _("Fined")
    CONVICTED = "convicted", _("Convicted")
    COMPLAINT = "complaint", _("Complaint filed against the aggressor or the police")
    SETTLED = "settled", _("Settled")
    OTHER = "other", _("Other")


class LegalCase(models.Model):
    """An arrest or a rights violation followed up: the paralegal or human rights defender
    assigned, the lawyer or legal-aid partner it was referred to, court dates, outcome."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    branch = models.ForeignKey(Branch, on_delete=models.PROTECT, related_name="legal_cases")
    callout = models.OneToOneField(
        Callout, null=True, blank=True, on_delete=models.PROTECT, related_name="legal_case"
    )
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="legal_cases"
    )
    person_description = EncryptedTextField(_("who (if not a member)"), blank=True, default="")
    paralegal = models.ForeignKey(
        Member,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="legal_cases_assigned",
        verbose_name=_("paralegal or human rights defender"),
    )
    lawyer = EncryptedTextField(_("lawyer or legal-aid partner"), blank=True, default="")
    notes = EncryptedTextField(_("notes"), blank=True, default="")
    opened_at = models.DateTimeField(default=timezone.now)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=CaseOutcome.choices, blank=True)
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | ~Q(outcome=""),
                name="legal_case_closed_with_outcome",
            ),
        ]

    def __str__(self) -> str:
        return f"case {self.pk}"


class CourtDate(models.Model):
    """A hearing. The day before, the member (consent rules apply) and the paralegal get
    a neutral reminder through the outbox."""

    case = models.ForeignKey(LegalCase, on_delete=models.PROTECT, related_name="court_dates")
    at = models.DateTimeField(_("date and time"))
    place = EncryptedTextField(_("court"), blank=True, default="")
    reminded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(
                fields=["at"], condition=Q(reminded_at__isnull=True), name="court_to_remind"
            )
        ]

    def __str__(self) -> str:
        return f"court date {self.pk}"


# --- sharing outside the union ---------------------------------------------------------


class ShareRecipient(models.TextChoices):
    POLICE = "police", _("Police")
    LAWYER = "lawyer", _("Lawyer or legal-aid partner")
    HEALTH = "health", _("Health service")
    OTHER = "other", _("Another organisation")


class ShareRecord(models.Model):
    """A report shared outside the union, with the member's recorded consent. What is
    shared never names the member who reported it (see crisis.services.sharing)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    callout = models.ForeignKey(Callout, on_delete=models.PROTECT, related_name="shares")
    recipient_kind = models.CharField(
        _("shared with"), max_length=8, choices=ShareRecipient.choices
    )
    recipient = EncryptedTextField(_("who exactly (organisation, person)"), blank=True, default="")
    consent_recorded = models.BooleanField(default=False)
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    shared_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(consent_recorded=True), name="share_only_with_consent"
            ),
        ]

    def __str__(self) -> str:
        return f"share {self.pk}"
