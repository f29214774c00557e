"""Reads of crisis response. Every selector takes the acting user and returns only what
that user may see: call-outs of the branches where they are on the crisis team (every
branch for a crisis coordinator at the national level)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from uuid import UUID

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from crisis import rota
from crisis.models import (
    OPEN_STATUSES,
    AlertStatus,
    Callout,
    CalloutNote,
    CalloutStep,
    CourtDate,
    Dispatch,
    DispatchState,
    LegalCase,
    Position,
    RotaSlot,
    SafetyAlert,
)
from crisis.services.dispatch import reachable
from union import permissions
from union.models import Branch, Member
from union.permissions import Perm

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    AnyUser = User | AnonymousUser

DUPLICATE_WINDOW = timedelta(hours=24)


def branches_for(user: AnyUser, perm: Perm = Perm.VIEW_CALLOUTS) -> QuerySet[Branch]:
    return permissions.scope_for(user, perm).branches().order_by("name")


def callouts_for(user: AnyUser, perm: Perm = Perm.VIEW_CALLOUTS) -> QuerySet[Callout]:
    return permissions.visible(Callout.objects.select_related("branch"), user, perm)


def callout_for(
    user: AnyUser, public_id: UUID | str, perm: Perm = Perm.VIEW_CALLOUTS
) -> Callout | None:
    """One call-out by its public id, or None (the same for one of another branch, or for
    something that is no id at all: it comes from a form or an address)."""
    try:
        public_id = UUID(str(public_id))
    except ValueError:
        return None
    return (
        callouts_for(user, perm).select_related("member", "merged_into").filter(public_id=public_id)
    ).first()


def open_callouts(user: AnyUser, branch: Branch | None = None) -> QuerySet[Callout]:
    """The dashboard: open call-outs, most urgent first, then oldest first."""
    qs = callouts_for(user).filter(status__in=OPEN_STATUSES, merged_into__isnull=True)
    if branch is not None:
        qs = qs.filter(branch=branch)
    return qs.order_by("urgency", "reported_at", "id")


def recently_finished(
    user: AnyUser, branch: Branch | None = None, days: int = 2
) -> QuerySet[Callout]:
    qs = callouts_for(user).filter(
        ~Q(status__in=OPEN_STATUSES),
        merged_into__isnull=True,
        resolved_at__gte=timezone.now() - timedelta(days=days),
    )
    if branch is not None:
        qs = qs.filter(branch=branch)
    return qs.order_by("-resolved_at", "-id")


def timeline(callout: Callout) -> list[CalloutStep]:
    """The call-out's steps, with those of call-outs merged into it, in time order."""
    return list(
        CalloutStep.objects.filter(Q(callout=callout) | Q(callout__merged_into=callout))
        .select_related("member", "callout", "other")
        .order_by("at", "id")
    )


def notes(callout: Callout) -> list[CalloutNote]:
    return list(
        CalloutNote.objects.filter(Q(callout=callout) | Q(callout__merged_into=callout))
        .select_related("author", "callout")
        .order_by("at", "id")
    )


def merged_into_this(callout: Callout) -> list[Callout]:
    return list(callout.merged.all().order_by("reported_at"))


def possible_duplicates(user: AnyUser, callout: Callout) -> list[Callout]:
    """Same branch, reported within 24 hours either side, not merged: the same member or
    the same kind of incident first."""
    if callout.merged_into_id is not None:
        return []
    qs = (
        callouts_for(user)
        .filter(
            branch_id=callout.branch_id,
            merged_into__isnull=True,
            reported_at__gte=callout.reported_at - DUPLICATE_WINDOW,
            reported_at__lte=callout.reported_at + DUPLICATE_WINDOW,
        )
        .exclude(pk=callout.pk)
        .exclude(merged__isnull=False)
        .order_by("reported_at")[:20]
    )
    found = list(qs)
    found.sort(
        key=lambda c: (
            not (callout.member_id and c.member_id == callout.member_id),
            c.kind != callout.kind,
            abs((c.reported_at - callout.reported_at).total_seconds()),
        )
    )
    return found[:5]


def dispatches(callout: Callout) -> list[Dispatch]:
    return list(
        Dispatch.objects.filter(callout=callout)
        .select_related("responder")
        .order_by("alerted_at", "id")
    )


def my_dispatch(user: AnyUser, callout: Callout) -> Dispatch | None:
    """The user's own latest alert for this call-out, if they were alerted."""
    if not user.is_authenticated:
        return None
    return (
        Dispatch.objects.filter(callout=callout, responder__user=user)
        .order_by("-round", "-step", "-id")
        .first()
    )


def waiting_for(user: AnyUser) -> list[Callout]:
    """Call-outs whose alert to this user waits for an answer, or that they took on."""
    if not user.is_authenticated:
        return []
    ids = Dispatch.objects.filter(
        Q(state=DispatchState.ALERTED) | Q(state=DispatchState.ACCEPTED),
        responder__user=user,
    ).values("callout_id")
    return list(
        callouts_for(user, Perm.RESPOND_CALLOUT)
        .filter(pk__in=ids, status__in=OPEN_STATUSES, merged_into__isnull=True)
        .order_by("urgency", "reported_at")
    )


def accepted_by(callouts: list[Callout]) -> dict[int, Dispatch]:
    """Who has each call-out (one query for a page of them)."""
    return {
        d.callout_id: d
        for d in Dispatch.objects.filter(
            callout__in=callouts, state=DispatchState.ACCEPTED
        ).select_related("responder")
    }


def my_reports(user: AnyUser) -> QuerySet[Callout]:
    """A member's own reports: what they may see is the status, nothing the team wrote."""
    if not user.is_authenticated:
        return Callout.objects.none()
    return Callout.objects.filter(reported_by__user=user, logged_by=user).order_by("-reported_at")


def my_cases(user: AnyUser) -> QuerySet[LegalCase]:
    """A member's own legal cases: when opened, the coming court dates, the outcome.
    Never the lawyer, the notes or anything else the team wrote."""
    if not user.is_authenticated:
        return LegalCase.objects.none()
    upcoming = CourtDate.objects.filter(at__gte=timezone.now()).only("case_id", "at")
    return (
        LegalCase.objects.filter(member__user=user)
        .only("public_id", "opened_at", "closed_at", "outcome", "member_id")
        .prefetch_related(Prefetch("court_dates", queryset=upcoming, to_attr="coming"))
        .order_by("-opened_at")
    )


# --- the rota --------------------------------------------------------------------------


@dataclass
class Duty:
    position: str
    label: str
    members: list[Member]


def slots_for(user: AnyUser, branch: Branch, *, include_past: bool = False) -> QuerySet[RotaSlot]:
    qs = permissions.visible(
        RotaSlot.objects.select_related("responder", "responder__crisis_state", "replaces"),
        user,
        Perm.VIEW_CALLOUTS,
    ).filter(branch=branch)
    if not include_past:
        today = timezone.now().astimezone(rota.zone(branch.time_zone)).date()
        qs = qs.filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today - timedelta(days=1)))
    return qs.order_by("temporary", "position", "valid_from", "starts_at", "id")


def duty_now(slots: list[RotaSlot], branch: Branch, at: datetime | None = None) -> list[Duty]:
    found = rota.on_duty(slots, at or timezone.now(), rota.zone(branch.time_zone))
    return [
        Duty(
            position=position,
            label=str(Position(position).label),
            members=[s.responder for s in found[position]],
        )
        for position in (Position.PRIMARY, Position.BACKUP)
    ]


@dataclass
class Coverage:
    gaps: list[rota.Gap]
    unreachable: list[Member]  # on the rota in the coming days, but no alert can reach them


def coverage(
    slots: list[RotaSlot], branch: Branch, days: int = 7, at: datetime | None = None
) -> Coverage:
    """Gaps in the primary position over the next `days`, and responders on the rota whom
    an alert cannot reach (no SMS consent or number in the register, or texted STOP)."""
    start = at or timezone.now()
    end = start + timedelta(days=days)
    tz = rota.zone(branch.time_zone)
    upcoming = [
        s
        for s in slots
        if s.valid_from <= end.astimezone(tz).date()
        and (
            s.valid_until is None
            or s.valid_until >= start.astimezone(tz).date() - timedelta(days=1)
        )
    ]
    unreachable: dict[int, Member] = {}
    for slot in upcoming:
        if not reachable(slot.responder):
            unreachable[slot.responder_id] = slot.responder
    return Coverage(
        gaps=rota.gaps(upcoming, start, end, tz, Position.PRIMARY),
        unreachable=list(unreachable.values()),
    )


# --- safety alerts -----------------------------------------------------------------------


def current_alerts(member: Member) -> QuerySet[SafetyAlert]:
    """What a member reads: published alerts of her branch that have not expired."""
    return (
        SafetyAlert.objects.filter(
            branch_id=member.branch_id,
            status=AlertStatus.PUBLISHED,
            expires_at__gt=timezone.now(),
        )
        .prefetch_related("texts")
        .order_by("-published_at")
    )


def alerts_for(user: AnyUser) -> QuerySet[SafetyAlert]:
    return permissions.visible(
        SafetyAlert.objects.select_related("branch", "drafted_by", "reviewed_by"),
        user,
        Perm.RESPOND_CALLOUT,
    ).order_by("-drafted_at")


def alert_text(alert: SafetyAlert, language: str) -> str:
    texts = {t.language: t.body for t in alert.texts.all()}
    return (
        texts.get(language)
        or texts.get(alert.branch.main_language)
        or next(iter(texts.values()), "")
    )
