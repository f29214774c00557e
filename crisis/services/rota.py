"""The rota and the branch's crisis settings: written by the branch's crisis coordinators.

A slot names a member of the branch's crisis team, never a phone number: the alert goes
to the number in the register, so a changed number is changed once, there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crisis import rota, sms
from crisis.audit import CrisisAction
from crisis.models import WEEKDAYS_ALL, CrisisSettings, Position, RotaSlot
from union import permissions
from union.models import Branch, Member, Role, RoleAssignment
from union.permissions import Perm
from union.services.audit import record_access

if TYPE_CHECKING:
    from django.contrib.auth.models import User

CRISIS_ROLES = (Role.CRISIS_RESPONDER, Role.CRISIS_COORDINATOR)


def crisis_team(branch: Branch) -> list[Member]:
    """Members holding a crisis role in the branch today: who may be on the rota."""
    ids = (
        RoleAssignment.objects.current()
        .filter(branch=branch, role__in=CRISIS_ROLES)
        .values_list("member_id", flat=True)
    )
    return list(Member.objects.filter(pk__in=ids).order_by("working_name", "id"))


@dataclass
class SlotSpec:
    position: str
    responder: Member
    starts_at: time
    ends_at: time
    valid_from: date
    valid_until: date | None = None
    weekdays: int = WEEKDAYS_ALL
    temporary: bool = False


def _check(branch: Branch, spec: SlotSpec) -> None:
    errors: dict[str, str] = {}
    if spec.position not in Position.values:
        errors["position"] = _("Choose primary or backup.")
    if spec.responder.pk not in {m.pk for m in crisis_team(branch)}:
        errors["responder"] = _("Only a member of this branch's crisis team can be on its rota.")
    if not 1 <= spec.weekdays <= WEEKDAYS_ALL:
        errors["weekdays"] = _("Choose at least one day.")
    if spec.valid_until is not None and spec.valid_until < spec.valid_from:
        errors["valid_until"] = _("The last day comes before the first.")
    if spec.temporary and spec.valid_until is None:
        errors["valid_until"] = _("A temporary rota needs a last day.")
    if errors:
        raise ValidationError(errors)


def add_slot(*, actor: User, branch: Branch, spec: SlotSpec) -> RotaSlot:
    permissions.require(actor, Perm.COORDINATE_CRISIS, branch)
    _check(branch, spec)
    with transaction.atomic():
        slot = RotaSlot.objects.create(
            branch=branch,
            position=spec.position,
            responder=spec.responder,
            starts_at=spec.starts_at,
            ends_at=spec.ends_at,
            valid_from=spec.valid_from,
            valid_until=spec.valid_until,
            weekdays=spec.weekdays,
            temporary=spec.temporary,
            created_by=actor,
        )
        record_access(
            actor=actor, action=CrisisAction.ROTA, target=f"slot:{slot.pk}", branch=branch
        )
    return slot


def swap_slot(
    *, actor: User, slot: RotaSlot, responder: Member, first_day: date, last_day: date
) -> RotaSlot:
    """Someone else covers a slot's shifts from `first_day` to `last_day`: a temporary
    slot with the same hours, which replaces the regular one for those shifts."""
    spec = SlotSpec(
        position=slot.position,
        responder=responder,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        valid_from=first_day,
        valid_until=last_day,
        weekdays=slot.weekdays,
        temporary=True,
    )
    swap = add_slot(actor=actor, branch=slot.branch, spec=spec)
    RotaSlot.objects.filter(pk=swap.pk).update(replaces=slot)
    swap.replaces = slot
    return swap


def end_slot(*, actor: User, slot: RotaSlot) -> RotaSlot | None:
    """Take a slot off the rota from today (branch time): it stops after yesterday's
    shifts (one running overnight finishes), or goes altogether if it never started."""
    permissions.require(actor, Perm.COORDINATE_CRISIS, slot.branch_id)
    today = timezone.now().astimezone(rota.zone(slot.branch.time_zone)).date()
    with transaction.atomic():
        slot = RotaSlot.objects.select_for_update().select_related("branch").get(pk=slot.pk)
        record_access(
            actor=actor, action=CrisisAction.ROTA, target=f"slot:{slot.pk}", branch=slot.branch
        )
        if slot.valid_from >= today:
            RotaSlot.objects.filter(replaces=slot).update(replaces=None)
            slot.delete()
            return None
        if slot.valid_until is None or slot.valid_until >= today:
            slot.valid_until = today - timedelta(days=1)
            slot.save(update_fields=["valid_until"])
    return slot


@dataclass
class SettingsSpec:
    answer_minutes: int
    urgent_answer_minutes: int
    arrive_minutes: int
    chain_repeats: int
    retention_days: int
    keywords: dict[str, str]  # action -> comma-separated words, as typed


def save_settings(*, actor: User, branch: Branch, spec: SettingsSpec) -> CrisisSettings:
    permissions.require(actor, Perm.COORDINATE_CRISIS, branch)
    if spec.urgent_answer_minutes > spec.answer_minutes:
        raise ValidationError(
            {"urgent_answer_minutes": _("Urgent call-outs cannot wait longer than others.")}
        )
    try:
        keywords = sms.clean_keywords(spec.keywords)
    except ValueError as exc:
        raise ValidationError(
            _(
                "The word “%(word)s” cannot be used: it has digits, is too long, or already "
                "means something else."
            )
            % {"word": exc.args[0]},
            code="keyword",
        ) from exc
    with transaction.atomic():
        settings, _created = CrisisSettings.objects.select_for_update().get_or_create(branch=branch)
        settings.answer_minutes = spec.answer_minutes
        settings.urgent_answer_minutes = spec.urgent_answer_minutes
        settings.arrive_minutes = spec.arrive_minutes
        settings.chain_repeats = spec.chain_repeats
        settings.retention_days = spec.retention_days
        settings.keywords = keywords
        settings.updated_at = timezone.now()
        settings.updated_by = actor
        settings.full_clean(exclude=["branch", "updated_by"])
        settings.save()
        record_access(
            actor=actor, action=CrisisAction.SETTINGS, target=f"branch:{branch.pk}", branch=branch
        )
    return settings
