"""Who may do what, in one place. Deny by default.

A permission is granted only by a *current* role assignment (today within its dates),
and only for the branch of that assignment; a role at the national level grants it
for every branch. Superusers are the technical administrators: they use the Django
admin, and hold no union permission unless they also hold a role.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, TypeVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, Q, QuerySet
from django.utils.translation import gettext as _

from union.models import Branch, Member, Role, RoleAssignment

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    AnyUser = User | AnonymousUser

M = TypeVar("M", bound=Model)


class Perm(StrEnum):
    VIEW_REGISTER = "view_register"  # list members, see working name, number, status
    VIEW_CONTACT = "view_contact"  # decrypt legal name, phone, email, notes
    REGISTER_MEMBER = "register_member"  # assisted registration during outreach
    APPROVE_MEMBER = "approve_member"  # approve or reject applicants
    CHANGE_STATUS = "change_status"  # suspend, reinstate, resign, record a death
    ERASE_MEMBER = "erase_member"  # erase a member's personal details at her request
    IMPORT_REGISTER = "import_register"
    EXPORT_REGISTER = "export_register"
    MANAGE_ROLES = "manage_roles"
    EDIT_BRANCH = "edit_branch"  # the branch's public contact details (helpline, drop-in)
    # Take in a member of another branch who moved to this one. The receiving branch
    # acts alone: the sending branch is told, never asked (a member fleeing danger must
    # not wait on the town she left).
    MOVE_MEMBER_IN = "move_member_in"
    MANAGE_VOTES = "manage_votes"  # create and run votes, see who voted (never how)
    RUN_ASSEMBLY = "run_assembly"  # check members in to vote, enter paper ballot tallies
    # Dues. Recording and confirming are split so that cash above a branch's threshold
    # needs two different officers.
    VIEW_LEDGER = "view_ledger"  # dues dashboard, ledger, cash book, receipts of the branch
    RECORD_PAYMENT = "record_payment"  # take cash or mobile money, correct such entries
    CONFIRM_PAYMENT = "confirm_payment"  # the second officer on entries above the threshold
    GRANT_WAIVER = "grant_waiver"  # hardship waivers, solidarity rate, correct charges
    MANAGE_DUES_PLAN = "manage_dues_plan"
    EXPORT_LEDGER = "export_ledger"  # for the auditor and donors
    # Crisis response. Call-outs are seen only by the branch's crisis team and a crisis
    # coordinator at the national level; the figures carry no names and go wider.
    VIEW_CALLOUTS = "view_callouts"  # the dashboard, call-outs, timelines, narratives, rota
    LOG_CALLOUT = "log_callout"  # log a call-out from the helpline, a walk-in, outreach
    RESPOND_CALLOUT = "respond_callout"  # accept, arrive, resolve, add notes
    COORDINATE_CRISIS = "coordinate_crisis"  # rota, settings, close, merge, share, alerts
    VIEW_CRISIS_FIGURES = "view_crisis_figures"  # anonymous response figures and exports
    # Welfare funds. Submitting, deciding and paying are separate rights, held by different
    # roles, and the services refuse anyone who takes two parts in one application.
    APPLY_WELFARE_FOR_MEMBER = "apply_welfare_for_member"  # apply on a member's behalf
    VIEW_WELFARE = "view_welfare"  # fund balances, the list of applications of the branch
    DECIDE_WELFARE = "decide_welfare"  # the welfare committee: notes, documents, decisions
    EMERGENCY_WELFARE = "emergency_welfare"  # approve alone within limits, reviewed later
    PAY_WELFARE = "pay_welfare"  # payout details, pay, reverse a failed payout
    MANAGE_WELFARE_FUNDS = "manage_welfare_funds"  # funds, rules, donations, transfers


# The one table: what each role may do. A secretary runs their branch's votes; the national
# coordinator and board run national ones. Treasurers help at assemblies: the second
# officer of a paper tally. Treasurers find members to record dues: names and numbers, not
# contact details. Crisis teams register people they meet on outreach, and see call-outs
# of their own branch only; a crisis coordinator at the national level sees every branch's.
# Welfare: the committee decides, the crisis coordinator may approve alone in an
# emergency, the treasurer pays; officers and crisis responders may apply for a member.
GRANTS: dict[str, frozenset[Perm]] = {
    Role.SECRETARY: frozenset(
        {
            Perm.VIEW_REGISTER,
            Perm.VIEW_CONTACT,
            Perm.REGISTER_MEMBER,
            Perm.APPROVE_MEMBER,
            Perm.CHANGE_STATUS,
            Perm.ERASE_MEMBER,
            Perm.IMPORT_REGISTER,
            Perm.EXPORT_REGISTER,
            Perm.MANAGE_ROLES,
            Perm.EDIT_BRANCH,
            Perm.MOVE_MEMBER_IN,
            Perm.MANAGE_VOTES,
            Perm.RUN_ASSEMBLY,
            Perm.VIEW_LEDGER,
            Perm.CONFIRM_PAYMENT,
            Perm.APPLY_WELFARE_FOR_MEMBER,
        }
    ),
    Role.TREASURER: frozenset(
        {
            Perm.VIEW_REGISTER,
            Perm.RUN_ASSEMBLY,
            Perm.VIEW_LEDGER,
            Perm.RECORD_PAYMENT,
            Perm.CONFIRM_PAYMENT,
            Perm.GRANT_WAIVER,
            Perm.MANAGE_DUES_PLAN,
            Perm.EXPORT_LEDGER,
            Perm.VIEW_WELFARE,
            Perm.PAY_WELFARE,
            Perm.MANAGE_WELFARE_FUNDS,
        }
    ),
    Role.CRISIS_RESPONDER: frozenset(
        {
            Perm.REGISTER_MEMBER,
            Perm.VIEW_CALLOUTS,
            Perm.LOG_CALLOUT,
            Perm.RESPOND_CALLOUT,
            Perm.APPLY_WELFARE_FOR_MEMBER,
        }
    ),
    Role.CRISIS_COORDINATOR: frozenset(
        {
            Perm.REGISTER_MEMBER,
            Perm.VIEW_CALLOUTS,
            Perm.LOG_CALLOUT,
            Perm.RESPOND_CALLOUT,
            Perm.COORDINATE_CRISIS,
            Perm.VIEW_CRISIS_FIGURES,
            Perm.APPLY_WELFARE_FOR_MEMBER,
            Perm.VIEW_WELFARE,
            Perm.EMERGENCY_WELFARE,
        }
    ),
    Role.WELFARE_COMMITTEE: frozenset(
        {Perm.APPLY_WELFARE_FOR_MEMBER, Perm.VIEW_WELFARE, Perm.DECIDE_WELFARE}
    ),
    Role.EDITOR: frozenset(),
    Role.NATIONAL_COORDINATOR: frozenset(
        {
            Perm.VIEW_REGISTER,
            Perm.VIEW_CONTACT,
            Perm.APPROVE_MEMBER,
            Perm.CHANGE_STATUS,
            Perm.ERASE_MEMBER,
            Perm.IMPORT_REGISTER,
            Perm.EXPORT_REGISTER,
            Perm.MANAGE_ROLES,
            Perm.EDIT_BRANCH,
            Perm.MOVE_MEMBER_IN,
            Perm.MANAGE_VOTES,
            Perm.RUN_ASSEMBLY,
            Perm.VIEW_LEDGER,
            Perm.CONFIRM_PAYMENT,
            Perm.MANAGE_DUES_PLAN,
            Perm.EXPORT_LEDGER,
            Perm.VIEW_CRISIS_FIGURES,
            Perm.APPLY_WELFARE_FOR_MEMBER,
            Perm.VIEW_WELFARE,
            Perm.MANAGE_WELFARE_FUNDS,
        }
    ),
    Role.NATIONAL_BOARD: frozenset({Perm.VIEW_REGISTER, Perm.MANAGE_VOTES, Perm.RUN_ASSEMBLY}),
}

# Roles that only a national officer may hand out.
NATIONAL_ONLY_ROLES = frozenset({Role.NATIONAL_COORDINATOR, Role.NATIONAL_BOARD})


class Scope:
    """The set of branches a user may act on for one permission."""

    def __init__(self, branch_ids: frozenset[int], everywhere: bool) -> None:
        self.branch_ids = branch_ids
        self.everywhere = everywhere

    def __bool__(self) -> bool:
        return self.everywhere or bool(self.branch_ids)

    def allows(self, branch_id: int | None) -> bool:
        return branch_id is not None and (self.everywhere or branch_id in self.branch_ids)

    def filter(self, field: str = "branch") -> Q:
        """A Q object restricting a queryset to this scope (empty when there is none)."""
        if self.everywhere:
            return Q()
        return Q(**{f"{field}__in": self.branch_ids})

    def branches(self) -> QuerySet[Branch]:
        qs = Branch.objects.filter(is_national=False)
        return qs if self.everywhere else qs.filter(id__in=self.branch_ids)


NO_SCOPE = Scope(frozenset(), everywhere=False)


def _never_held_a_role(user: AnyUser) -> bool:
    """True when the user's member, already loaded for this request, has never held a role
    (Member.has_held_role): then there is nothing to look up. Unknown: False."""
    descriptor = getattr(user.__class__, "member", None)  # the class behind a lazy user too
    if descriptor is None or not descriptor.is_cached(user):
        return False
    member = descriptor.related.get_cached_value(user)
    return member is not None and not member.has_held_role


def current_roles(user: AnyUser) -> list[RoleAssignment]:
    """The user's roles in force today (RoleAssignment.objects.current), cached on the user
    object for the request."""
    if not user.is_authenticated or _never_held_a_role(user):
        return []
    cached = getattr(user, "_solidaire_roles", None)
    if cached is not None:
        return list(cached)
    roles = list(
        RoleAssignment.objects.current().filter(member__user=user).select_related("branch")
    )
    setattr(user, "_solidaire_roles", roles)  # noqa: B010 - a per-request cache
    return roles


def scope_for(user: AnyUser, perm: Perm) -> Scope:
    ids: set[int] = set()
    for assignment in current_roles(user):
        if perm in GRANTS.get(assignment.role, frozenset()):
            if assignment.branch.is_national:
                return Scope(frozenset(), everywhere=True)
            ids.add(assignment.branch_id)
    return Scope(frozenset(ids), everywhere=False) if ids else NO_SCOPE


def has_perm(user: AnyUser, perm: Perm, branch_id: int | None = None) -> bool:
    """True if the user holds perm for that branch (or, with no branch, for any branch)."""
    scope = scope_for(user, perm)
    return bool(scope) if branch_id is None else scope.allows(branch_id)


def require(user: AnyUser, perm: Perm, branch: Branch | int | None = None) -> None:
    """Raise PermissionDenied unless the user holds `perm` for `branch` (a branch or its id;
    None: for some branch). The check every service makes before it writes or reveals."""
    branch_id = branch.pk if isinstance(branch, Branch) else branch
    scope = scope_for(user, perm)
    if not scope:
        raise PermissionDenied
    if branch is not None and not scope.allows(branch_id):
        raise PermissionDenied(_("This belongs to another branch."))


def require_another_officer(user: AnyUser, member: Member) -> None:
    """Conflict of interest: no officer acts as an officer on her own record (records,
    waives, corrects, confirms or rates her own dues; decides her own welfare claim);
    another officer must. Raises ValidationError with a message to show her; call it
    with the permission check, before anything is written."""
    if user.is_authenticated and member.user_id is not None and member.user_id == user.pk:
        raise ValidationError(
            _("This concerns your own record: another officer must do it."), code="own_record"
        )


def visible(
    queryset: QuerySet[M], user: AnyUser, perm: Perm, *, field: str = "branch"
) -> QuerySet[M]:
    """The rows of `queryset` the user may see under `perm`: those whose `field` (a branch
    foreign key, or a path to one such as "member__branch") is in the user's scope."""
    scope = scope_for(user, perm)
    if not scope:
        return queryset.none()
    return queryset.filter(scope.filter(field))


def is_office_bearer(user: AnyUser) -> bool:
    """Anyone holding a current role; such users must sign in with a second factor."""
    return bool(current_roles(user))


def may_assign_role(user: AnyUser, role: str, branch: Branch) -> bool:
    scope = scope_for(user, Perm.MANAGE_ROLES)
    if branch.is_national or role in NATIONAL_ONLY_ROLES:
        return scope.everywhere and (branch.is_national == (role in NATIONAL_ONLY_ROLES))
    return scope.allows(branch.id)
