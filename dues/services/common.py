from __future__ import annotations

from collections.abc import Collection
from typing import TYPE_CHECKING

from django.utils import translation
from django.utils.translation import gettext as _

from union.models import Branch, Member, MemberStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    AnyUser = User | AnonymousUser


def lock_member(member_id: int) -> Member:
    """Every write to one member's ledger holds this lock: allocations are computed under it."""
    return Member.objects.select_for_update().select_related("branch").get(pk=member_id)


def sync_standing(member: Member) -> Member:
    """Lapse a member who fell behind beyond the grace months; reinstate one who caught up.

    Goes through union.services.members.change_member_status(actor=None) so the status
    history records the system as the author. Call under the member's lock.
    """
    return sync_standings([member])[member.pk]


def sync_standings(members: Collection[Member]) -> dict[int, Member]:
    """sync_standing for several members (each under its lock): two queries find whose
    standing changed, whatever their number. Returns every member by id, as left."""
    from dues.selectors import arrears_beyond_grace
    from union.services.members import change_member_status

    result = {member.pk: member for member in members}
    concerned = [m.pk for m in members if m.status in (MemberStatus.ACTIVE, MemberStatus.LAPSED)]
    if not concerned:
        return result
    behind = set(
        Member.objects.filter(pk__in=concerned)
        .filter(arrears_beyond_grace())
        .values_list("pk", flat=True)
    )
    for pk in concerned:
        member = result[pk]
        ok = pk not in behind
        if member.status == MemberStatus.ACTIVE and not ok:
            target = MemberStatus.LAPSED
            reason = lapse_reason(member.branch)
        elif member.status == MemberStatus.LAPSED and ok:
            target = MemberStatus.ACTIVE
            with translation.override(member.branch.main_language):
                reason = _("Dues paid up.")
        else:
            continue
        result[pk] = change_member_status(actor=None, member=member, to=target, reason=reason)
    return result


def lapse_reason(branch: Branch) -> str:
    """What the status history says of a member lapsed by the system, in the branch's language."""
    with translation.override(branch.main_language):
        return str(_("Dues unpaid beyond the grace months."))
