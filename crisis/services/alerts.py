"""Safety alerts: drafted by the crisis team, reviewed against written criteria and
published by a coordinator, sent to the branch's members who agreed to be contacted, in
their language, and always expiring."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crisis.audit import CrisisAction
from crisis.models import AlertKind, AlertStatus, Callout, SafetyAlert, SafetyAlertText
from crisis.services.common import member_of
from union import permissions
from union.models import Branch, ContactPreference, Member, MemberStatus
from union.notifications.services import notify_members
from union.permissions import Perm
from union.services.audit import record_access

if TYPE_CHECKING:
    from django.contrib.auth.models import User

MAX_ALERT = 480  # characters: three SMS at most
MAX_DAYS = 90
# What a coordinator confirms before an alert goes out. Written down so that every
# coordinator reviews against the same rules.
CRITERIA = {
    "danger": gettext_lazy("It describes the danger, not the person who reported it."),
    "anonymous": gettext_lazy(
        "It has no name, number, phone or exact place of the member who reported it."
    ),
    "needed": gettext_lazy("It gives only what members need to recognise and avoid the danger."),
    "expiry": gettext_lazy("Its expiry date is right for this danger."),
}


def _identifying(callout: Callout | None) -> list[str]:
    """What would point at the member behind the report: their names, number, phone."""
    if callout is None:
        return []
    found: list[str] = []
    for member in (callout.member, callout.reported_by):
        if member is None:
            continue
        found += [member.working_name, member.legal_name, member.number or ""]
        digits = re.sub(r"\D", "", member.phone or "")
        if len(digits) >= 6:
            found.append(digits[-8:])  # the local part, however the number is written
    return [f for f in found if f and len(f) >= 3]


def _check_texts(branch: Branch, texts: dict[str, str], callout: Callout | None) -> dict[str, str]:
    texts = {lang: " ".join(body.split()) for lang, body in texts.items() if body.strip()}
    if branch.main_language not in texts:
        raise ValidationError(
            {"texts": _("Write the alert in the branch's main language at least.")}, code="main"
        )
    for body in texts.values():
        if len(body) > MAX_ALERT:
            raise ValidationError(
                {"texts": _("Keep each text under %(n)s characters.") % {"n": MAX_ALERT}},
                code="long",
            )
        flat = re.sub(r"\D", "", body)
        for secret in _identifying(callout):
            if (secret.isdigit() and secret in flat) or secret.casefold() in body.casefold():
                raise ValidationError(
                    {"texts": _("The alert points at the member who reported it. Remove it.")},
                    code="identifying",
                )
    return texts


def draft_alert(
    *,
    actor: User,
    branch: Branch,
    kind: str,
    texts: dict[str, str],
    days: int,
    callout: Callout | None = None,
    from_outreach: bool = False,
    consent_recorded: bool = False,
) -> SafetyAlert:
    """The crisis team drafts an alert; nothing is sent until a coordinator publishes it."""
    permissions.require(actor, Perm.RESPOND_CALLOUT, branch)
    if kind not in AlertKind.values:
        raise ValidationError({"kind": _("Choose what the alert is about.")})
    if not 1 <= days <= MAX_DAYS:
        raise ValidationError({"days": _("An alert lasts from 1 to 90 days.")})
    if callout is not None and callout.branch_id != branch.pk:
        raise ValidationError(_("This belongs to another branch."))
    texts = _check_texts(branch, texts, callout)
    with transaction.atomic():
        alert = SafetyAlert.objects.create(
            branch=branch,
            kind=kind,
            callout=callout,
            from_outreach=from_outreach,
            consent_recorded=consent_recorded,
            drafted_by=member_of(actor),
            expires_at=timezone.now() + timedelta(days=days),
        )
        SafetyAlertText.objects.bulk_create(
            [SafetyAlertText(alert=alert, language=lang, body=body) for lang, body in texts.items()]
        )
        record_access(
            actor=actor, action=CrisisAction.ALERT, target=f"alert:{alert.public_id}", branch=branch
        )
    return alert


def recipients(branch: Branch) -> list[Member]:
    """Members of the branch who agreed to be contacted (the outbox checks again)."""
    return list(
        Member.objects.filter(
            Q(contact_preference=ContactPreference.SMS, consent_sms=True, phone_hash__isnull=False)
            | Q(contact_preference=ContactPreference.EMAIL),
            branch=branch,
            status__in=(MemberStatus.ACTIVE, MemberStatus.LAPSED),
        )
    )


def publish_alert(*, actor: User, alert: SafetyAlert, criteria: set[str]) -> int:
    """A coordinator publishes a reviewed draft. Returns how many members it was sent to.
    Side effects: one outbox message per recipient, in their language, after commit."""
    permissions.require(actor, Perm.COORDINATE_CRISIS, alert.branch_id)
    if set(CRITERIA) - criteria:
        raise ValidationError(
            {"criteria": _("Check the alert against every criterion first.")}, code="criteria"
        )
    with transaction.atomic():
        alert = SafetyAlert.objects.select_for_update().select_related("branch").get(pk=alert.pk)
        if alert.status != AlertStatus.DRAFT:
            raise ValidationError(_("Only a draft can be published."), code="state")
        if alert.from_outreach and not alert.consent_recorded:
            raise ValidationError(
                _("A report from outreach goes out only with the member's recorded consent."),
                code="consent",
            )
        if alert.expires_at <= timezone.now():
            raise ValidationError(_("This draft has expired."), code="expired")
        reviewer = member_of(actor)
        if reviewer is None:
            raise ValidationError(_("Only a member of the crisis team can publish."))
        alert.status = AlertStatus.PUBLISHED
        alert.reviewed_by = reviewer
        alert.published_at = timezone.now()
        alert.save(update_fields=["status", "reviewed_by", "published_at"])
        texts = {t.language: t.body for t in alert.texts.all()}
        people = recipients(alert.branch)
        notify_members(
            kind="crisis_safety",
            messages_for=[
                (
                    member,
                    f"crisis-safety:{alert.pk}:{member.pk}",
                    {"texts": texts, "main": alert.branch.main_language},
                )
                for member in people
            ],
        )
        record_access(
            actor=actor,
            action=CrisisAction.ALERT,
            target=f"alert:{alert.public_id}",
            branch=alert.branch,
            rows=len(people),
        )
    return len(people)


def withdraw_alert(*, actor: User, alert: SafetyAlert) -> SafetyAlert:
    permissions.require(actor, Perm.COORDINATE_CRISIS, alert.branch_id)
    with transaction.atomic():
        alert = SafetyAlert.objects.select_for_update().get(pk=alert.pk)
        if alert.status == AlertStatus.WITHDRAWN:
            return alert
        alert.status = AlertStatus.WITHDRAWN
        alert.save(update_fields=["status"])
        record_access(
            actor=actor,
            action=CrisisAction.ALERT,
            target=f"alert:{alert.public_id}",
            branch=alert.branch,
        )
    return alert
