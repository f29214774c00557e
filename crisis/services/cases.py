"""Legal follow-up: arrests and rights violations become cases with a paralegal, a
lawyer or legal-aid partner, court dates (reminded the day before), and an outcome."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crisis import rota
from crisis.audit import CrisisAction
from crisis.models import Callout, CaseOutcome, CourtDate, LegalCase
from crisis.services.rota import crisis_team
from union import permissions
from union.models import Member
from union.notifications.services import notify_members
from union.permissions import Perm
from union.services.audit import record_access

if TYPE_CHECKING:
    from django.contrib.auth.models import User

MAX_TEXT = 4000
# Reminders go out for hearings 20 to 28 hours away: the day before, whatever the hour
# the hourly job runs.
REMIND_FROM, REMIND_UNTIL = timedelta(hours=20), timedelta(hours=28)


def _audit(actor: User, case: LegalCase, rows: int = 1) -> None:
    record_access(
        actor=actor,
        action=CrisisAction.CASE,
        target=f"case:{case.public_id}",
        branch=case.branch,
        rows=rows,
    )


def record_view(*, actor: User, case: LegalCase) -> None:
    """Every view of a case's details is in the access log."""
    _audit(actor, case)


def open_case(*, actor: User, callout: Callout) -> LegalCase:
    """Open the legal case of a call-out (once: a second request returns the first)."""
    permissions.require(actor, Perm.RESPOND_CALLOUT, callout.branch_id)
    with transaction.atomic():
        callout = Callout.objects.select_for_update().get(pk=callout.pk)
        existing = LegalCase.objects.filter(callout=callout).first()
        if existing is not None:
            return existing
        case = LegalCase.objects.create(
            branch_id=callout.branch_id,
            callout=callout,
            member=callout.member,
            person_description=callout.person_description,
            opened_by=actor,
        )
        _audit(actor, case)
    return case


def update_case(
    *, actor: User, case: LegalCase, paralegal: Member | None, lawyer: str, notes: str
) -> LegalCase:
    permissions.require(actor, Perm.RESPOND_CALLOUT, case.branch_id)
    if paralegal is not None and paralegal.pk not in {m.pk for m in crisis_team(case.branch)}:
        raise ValidationError({"paralegal": _("Choose someone from the branch's crisis team.")})
    if len(lawyer) > MAX_TEXT or len(notes) > MAX_TEXT:
        raise ValidationError(_("Please keep this under %(n)s characters.") % {"n": MAX_TEXT})
    with transaction.atomic():
        case = LegalCase.objects.select_for_update().get(pk=case.pk)
        if case.erased_at is not None:
            raise ValidationError(_("This case's text has been erased."))
        case.paralegal = paralegal
        case.lawyer = lawyer.strip()
        case.notes = notes.strip()
        case.save(update_fields=["paralegal", "lawyer", "notes"])
        _audit(actor, case)
    return case


def add_court_date(*, actor: User, case: LegalCase, at: datetime, place: str) -> CourtDate:
    permissions.require(actor, Perm.RESPOND_CALLOUT, case.branch_id)
    if at <= timezone.now():
        raise ValidationError({"at": _("A court date must be in the future.")})
    with transaction.atomic():
        court = CourtDate.objects.create(case=case, at=at, place=place.strip()[:MAX_TEXT])
        _audit(actor, case)
    return court


def close_case(*, actor: User, case: LegalCase, outcome: str) -> LegalCase:
    permissions.require(actor, Perm.RESPOND_CALLOUT, case.branch_id)
    if outcome not in CaseOutcome.values:
        raise ValidationError({"outcome": _("Choose the outcome.")})
    with transaction.atomic():
        case = LegalCase.objects.select_for_update().get(pk=case.pk)
        case.outcome = outcome
        case.closed_at = case.closed_at or timezone.now()
        case.save(update_fields=["outcome", "closed_at"])
        _audit(actor, case)
    return case


def send_court_reminders(now: datetime | None = None) -> int:
    """Hourly. Claims each hearing 20-28 hours away with a conditional UPDATE (so two runs
    never remind twice), then texts the member and the paralegal through the outbox."""
    now = now or timezone.now()
    due = list(
        CourtDate.objects.filter(
            reminded_at__isnull=True,
            at__gte=now + REMIND_FROM,
            at__lte=now + REMIND_UNTIL,
            case__closed_at__isnull=True,
        ).select_related("case__member", "case__paralegal", "case__branch")
    )
    sent = 0
    for court in due:
        with transaction.atomic():
            if not CourtDate.objects.filter(pk=court.pk, reminded_at__isnull=True).update(
                reminded_at=now
            ):
                continue
            local = court.at.astimezone(rota.zone(court.case.branch.time_zone))
            context = {"time": local.strftime("%H:%M")}
            batch = []
            if court.case.member is not None:
                batch.append((court.case.member, f"crisis-court:{court.pk}:member", context))
            if court.case.paralegal is not None:
                batch.append(
                    (
                        court.case.paralegal,
                        f"crisis-court:{court.pk}:paralegal",
                        {**context, "case": str(court.case.pk)},
                    )
                )
            if batch:
                notify_members(kind="crisis_court", messages_for=batch)
            sent += 1
    return sent
