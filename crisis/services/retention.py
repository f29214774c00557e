"""Retention: the free text of call-outs and cases closed longer ago than the branch's
retention period (default 365 days) is erased; the anonymous figures stay (times, kind,
urgency, outcome, escalations). Who needed help and who reported it are unlinked too."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from crisis.audit import CrisisAction
from crisis.models import (
    Callout,
    CalloutNote,
    CalloutStep,
    CourtDate,
    LegalCase,
    SafetyAlertText,
    ShareRecord,
    StepKind,
)
from crisis.services.common import settings_for
from union.models import Branch
from union.services.audit import record_access

BATCH = 1000


def _retention_days(branch: Branch) -> int:
    return settings_for(branch).retention_days


def erase_branch(branch: Branch, now: datetime | None = None) -> int:
    """Erase what is past the branch's retention period. Returns how many call-outs."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=_retention_days(branch))
    total = 0
    while True:
        with transaction.atomic():
            ids = list(
                Callout.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(
                    Q(closed_at__lt=cutoff) | Q(merged_into__closed_at__lt=cutoff),
                    branch=branch,
                    erased_at__isnull=True,
                )
                .values_list("pk", flat=True)[:BATCH]
            )
            if not ids:
                break
            CalloutNote.objects.filter(callout_id__in=ids).delete()
            ShareRecord.objects.filter(callout_id__in=ids).update(recipient="")
            Callout.objects.filter(pk__in=ids).update(
                area="",
                narrative="",
                person_description="",
                member=None,
                reported_by=None,
                erased_at=now,
            )
            CalloutStep.objects.bulk_create(
                [CalloutStep(callout_id=pk, kind=StepKind.ERASED, at=now) for pk in ids]
            )
            total += len(ids)
    with transaction.atomic():
        cases = LegalCase.objects.filter(
            branch=branch, closed_at__lt=cutoff, erased_at__isnull=True
        )
        case_ids = list(cases.values_list("pk", flat=True))
        if case_ids:
            CourtDate.objects.filter(case_id__in=case_ids).update(place="")
            LegalCase.objects.filter(pk__in=case_ids).update(
                lawyer="", notes="", person_description="", member=None, erased_at=now
            )
        SafetyAlertText.objects.filter(alert__branch=branch, alert__expires_at__lt=cutoff).delete()
        if total or case_ids:
            record_access(
                actor=None,
                action=CrisisAction.ERASE,
                target=f"branch:{branch.pk}",
                branch=branch,
                rows=total + len(case_ids),
            )
    return total


def erase_expired(now: datetime | None = None) -> int:
    """The daily job: every branch, each with its own retention period."""
    return sum(
        erase_branch(branch, now)
        for branch in Branch.objects.filter(is_national=False).select_related("crisis_settings")
    )
