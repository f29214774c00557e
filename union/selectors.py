"""Reads. Every selector takes the acting user and returns only what that user may see."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.urls import reverse

from union import permissions, registry
from union.crypto import keyed_hash
from union.models import Branch, Member, MemberMove, MemberStatus, RoleAssignment
from union.permissions import Perm
from union.phones import normalise_phone, region_for_currency

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    AnyUser = User | AnonymousUser


def members_visible_to(user: AnyUser, perm: Perm = Perm.VIEW_REGISTER) -> QuerySet[Member]:
    return permissions.visible(Member.objects.select_related("branch"), user, perm)


def register_for(user: AnyUser) -> QuerySet[Member]:
    """The register proper: everyone who is or was a member (applicants are in their queue)."""
    return members_visible_to(user).exclude(
        status__in=[MemberStatus.APPLICANT, MemberStatus.REJECTED]
    )


def applicants_for(user: AnyUser) -> QuerySet[Member]:
    return members_visible_to(user, Perm.APPROVE_MEMBER).filter(status=MemberStatus.APPLICANT)


def search_q(text: str, region: str | None = None, regions: Iterable[str] = ()) -> Q:
    """Match a membership number, a phone number (by keyed hash) or part of a working name.

    A number typed without its country code is read in each of `regions` (the regions of
    the officer's branches), so "082 123 4567" finds a Johannesburg member and
    "76 12 34 56" a Bamako one.
    """
    text = text.strip()
    query = Q(working_name__icontains=text) | Q(number__iexact=text)
    digits = sum(ch.isdigit() for ch in text)
    if digits >= 6:
        hashes = set()
        for candidate_region in {region, *regions}:
            try:
                phone = normalise_phone(text, candidate_region)
            except ValidationError:  # not a phone number there: names and numbers only
                continue
            if phone:
                hashes.add(keyed_hash(phone))
        if hashes:
            query |= Q(phone_hash__in=sorted(hashes))
    return query


def phone_regions(branches: Iterable[Branch]) -> list[str]:
    """The phone regions of a set of branches, for reading local numbers."""
    return sorted({region_for_currency(b.currency) for b in branches})


def branches_for(user: AnyUser, perm: Perm) -> QuerySet[Branch]:
    return permissions.scope_for(user, perm).branches()


def role_assignments_for(user: AnyUser) -> QuerySet[RoleAssignment]:
    qs = RoleAssignment.objects.select_related("member", "branch")
    return permissions.visible(qs, user, Perm.MANAGE_ROLES)


def public_branches() -> QuerySet[Branch]:
    return Branch.objects.filter(is_national=False).order_by("name")


@dataclass(frozen=True)
class Waiting:
    key: str
    label: str
    count: int
    url: str


def waiting_for(user: User) -> list[Waiting]:
    """Every registered office queue that concerns the officer, with what waits for them:
    one COUNT each, in the order the apps registered them."""
    found = []
    for queue in registry.office_queues():
        if queue.perm is not None:
            concerned = permissions.has_perm(user, Perm(queue.perm))
        else:
            concerned = queue.applies is not None and queue.applies(user)
        if concerned:
            found.append(
                Waiting(
                    key=queue.key,
                    label=str(queue.label),
                    count=queue.count(user),
                    url=reverse(queue.url_name),
                )
            )
    return found


def member_to_take_in(user: AnyUser, number: str) -> Member | None:
    """The member with this membership number, wherever she is, for an officer who may take
    members into some branch (MOVE_MEMBER_IN). The receiving branch does not see the other
    branches' registers: she is found by the number she gives, and by nothing else."""
    number = number.strip().upper()
    if not number or not permissions.has_perm(user, Perm.MOVE_MEMBER_IN):
        return None
    return (
        Member.objects.select_related("branch")
        .exclude(status__in=[MemberStatus.APPLICANT, MemberStatus.REJECTED])
        .filter(number=number)
        .first()
    )


def moves_for(user: AnyUser) -> QuerySet[MemberMove]:
    """Moves into or out of the branches whose register the user sees, newest first."""
    scope = permissions.scope_for(user, Perm.VIEW_REGISTER)
    if not scope:
        return MemberMove.objects.none()
    qs = MemberMove.objects.select_related("member", "from_branch", "to_branch")
    if not scope.everywhere:
        qs = qs.filter(
            Q(from_branch_id__in=scope.branch_ids) | Q(to_branch_id__in=scope.branch_ids)
        )
    return qs.order_by("-moved_at", "-id")
