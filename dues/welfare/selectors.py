"""Reads of the welfare funds: balances, rules in force, who may decide, what a member had.

Balances are sums of the fund ledger, never stored. "Committed" is what approved,
unpaid applications will take; "available" is the balance less that. Selectors that
serve a screen take the acting user and return only what that user may see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.db.models import F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce

from dues import selectors as dues_selectors
from dues.models import EntryKind, LedgerEntry
from dues.welfare.models import (
    PAYOUT_KINDS,
    ApplicationStatus,
    ConflictOfInterest,
    Decision,
    Fund,
    FundEntry,
    FundRule,
    FundTransfer,
    LoanRepayment,
    Payout,
    PayoutStatus,
    TransferStatus,
    Verdict,
    WelfareApplication,
    WelfarePolicy,
)
from dues.welfare.statements import Reconciliation, ReconciliationItem
from union import permissions
from union.models import Branch, Member, RoleAssignment
from union.permissions import GRANTS, Perm

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

    AnyUser = User | AnonymousUser

DEFAULT_APPROVALS = 2
# Grants that count against a member's 12-month cap: approved or paid, whatever a later
# review said (an emergency payout rejected afterwards was still received).
RECEIVED_STATUSES = (ApplicationStatus.APPROVED, ApplicationStatus.PAID)
APPROVING_VERDICTS = (Verdict.APPROVE, Verdict.EMERGENCY)


def deciding_roles() -> list[str]:
    return [role for role, perms in GRANTS.items() if Perm.DECIDE_WELFARE in perms]


# --- funds and balances ---------------------------------------------------------------


def _sum_of(qs: QuerySet[Any], field: str) -> Subquery:
    return Subquery(
        qs.values(field).annotate(total=Sum("amount")).values("total"), output_field=IntegerField()
    )


def funds_with_figures(qs: QuerySet[Fund] | None = None) -> QuerySet[Fund]:
    """Funds annotated with balance and committed (approved, unpaid), minor units; their
    `available` is the difference (computed in Python: an annotation would run the balance
    subquery a second time)."""
    qs = Fund.objects.all() if qs is None else qs
    balance = Subquery(
        FundEntry.objects.filter(fund_id=OuterRef("pk"))
        .values("fund_id")
        .annotate(total=Sum("amount"))
        .values("total"),
        output_field=IntegerField(),
    )
    committed = Subquery(
        WelfareApplication.objects.filter(fund_id=OuterRef("pk"), status=ApplicationStatus.APPROVED)
        .values("fund_id")
        .annotate(total=Sum("amount_granted"))
        .values("total"),
        output_field=IntegerField(),
    )
    return qs.select_related("branch").annotate(
        balance=Coalesce(balance, Value(0)), committed=Coalesce(committed, Value(0))
    )


def fund_balance(fund_id: int) -> int:
    """Minor units in the fund now: the sum of its ledger."""
    return FundEntry.objects.filter(fund_id=fund_id).aggregate(total=Sum("amount"))["total"] or 0


def committed(fund_id: int, *, excluding: int | None = None) -> int:
    """Minor units granted by approved applications not yet paid."""
    qs = WelfareApplication.objects.filter(fund_id=fund_id, status=ApplicationStatus.APPROVED)
    if excluding is not None:
        qs = qs.exclude(pk=excluding)
    return qs.aggregate(total=Sum("amount_granted"))["total"] or 0


def restricted_unspent(fund_id: int) -> int:
    """Restricted gifts not yet spent: they cannot leave the fund by transfer. Payouts spend
    restricted money first."""
    totals = FundEntry.objects.filter(fund_id=fund_id).aggregate(
        restricted=Sum("amount", filter=Q(restricted=True)),
        paid=Sum("amount", filter=Q(kind__in=PAYOUT_KINDS)),
    )
    return max((totals["restricted"] or 0) + (totals["paid"] or 0), 0)


def rule_in_force(fund_id: int, day: date) -> FundRule | None:
    """The fund's rule on `day`: the latest whose effective date is not after it."""
    return (
        FundRule.objects.filter(fund_id=fund_id, effective_from__lte=day)
        .order_by("-effective_from")
        .first()
    )


def fund_for(branch: Branch, purpose: str) -> Fund | None:
    """The fund an application for `purpose` draws on: the branch's own, else the national
    one in the branch's currency."""
    funds = Fund.objects.filter(
        Q(branch=branch) | Q(branch__is_national=True), purpose=purpose, currency=branch.currency
    ).select_related("branch")
    own = [fund for fund in funds if fund.branch_id == branch.pk]
    return own[0] if own else next(iter(funds), None)


def purposes_for(branch: Branch) -> list[str]:
    """Purposes some fund in reach of the branch's members covers."""
    return sorted(
        set(
            Fund.objects.filter(
                Q(branch=branch) | Q(branch__is_national=True), currency=branch.currency
            ).values_list("purpose", flat=True)
        )
    )


def policy(branch: Branch | int) -> WelfarePolicy:
    """The branch's decision rules (unsaved defaults when it has none)."""
    branch_id = branch.pk if isinstance(branch, Branch) else branch
    found = WelfarePolicy.objects.filter(branch_id=branch_id).first()
    return found or WelfarePolicy(branch_id=branch_id)


# --- the member's side of the rules ------------------------------------------------------


def paid_months(member: Member) -> int:
    """Months of dues the member has fully paid (charges settled, not corrected away)."""
    return (
        LedgerEntry.objects.filter(member=member, kind=EntryKind.CHARGE, reversed_by__isnull=True)
        .annotate(settled=Coalesce(dues_selectors._settled_on(), Value(0)))
        .filter(settled__gte=F("amount"))
        .count()
    )


def received_in_year(
    member_id: int, fund_id: int, *, until: date, excluding: int | None = None
) -> int:
    """Minor units granted to the member from the fund in the 12 months up to `until`."""
    qs = WelfareApplication.objects.filter(
        member_id=member_id,
        fund_id=fund_id,
        status__in=RECEIVED_STATUSES,
        decided_on__gt=until - timedelta(days=365),
    )
    if excluding is not None:
        qs = qs.exclude(pk=excluding)
    return qs.aggregate(total=Sum("amount_granted"))["total"] or 0


def emergency_total(
    *, since: date, coordinator_id: int | None = None, member_id: int | None = None
) -> int:
    """Minor units approved through the emergency path since `since` (by one coordinator,
    or for one member), whatever became of them."""
    qs = Decision.objects.filter(verdict=Verdict.EMERGENCY, created_at__date__gte=since)
    if coordinator_id is not None:
        qs = qs.filter(decided_by_id=coordinator_id)
    if member_id is not None:
        qs = qs.filter(applicant_id=member_id)
    return qs.aggregate(total=Sum("amount"))["total"] or 0


# --- who decides -------------------------------------------------------------------------


@dataclass(frozen=True)
class Deciders:
    """Who may approve one version of an application, and how many must."""

    national: bool  # decided by the national committee
    required: int
    eligible: frozenset[int]  # member ids


def excluded_deciders(application: WelfareApplication) -> set[int]:
    """Member ids that may never approve this application: the member helped, whoever
    submitted it, and anyone who declared a conflict of interest."""
    excluded = {application.member_id}
    submitter = Member.objects.filter(user_id=application.submitted_by_id).values_list(
        "pk", flat=True
    )
    excluded.update(submitter)
    excluded.update(
        ConflictOfInterest.objects.filter(application=application).values_list(
            "member_id", flat=True
        )
    )
    return excluded


def committee_members(branch_id: int) -> set[int]:
    return set(
        RoleAssignment.objects.current()
        .filter(role__in=deciding_roles(), branch_id=branch_id)
        .values_list("member_id", flat=True)
    )


def deciders(application: WelfareApplication) -> Deciders:
    """The branch committee decides, with its policy's number of approvers; a national
    fund, or a branch left with fewer eligible members than that, goes to the national
    committee (with the national policy's number)."""
    excluded = excluded_deciders(application)
    branch_policy = policy(application.branch_id)
    if not application.fund.branch.is_national:
        eligible = committee_members(application.branch_id) - excluded
        if len(eligible) >= branch_policy.approvals_required:
            return Deciders(False, branch_policy.approvals_required, frozenset(eligible))
    national = Branch.objects.filter(is_national=True).only("pk").first()
    if national is None:
        return Deciders(True, branch_policy.approvals_required, frozenset())
    required = policy(national).approvals_required
    eligible = committee_members(national.pk) - excluded
    return Deciders(True, required, frozenset(eligible))


def approvals(application: WelfareApplication) -> QuerySet[Decision]:
    """The approvals of the application's current version."""
    return Decision.objects.filter(
        application=application, version=application.version, verdict__in=APPROVING_VERDICTS
    )


def approvers(application: WelfareApplication) -> set[int]:
    """User ids who approved the current version (or the emergency approver)."""
    return set(approvals(application).values_list("decided_by_id", flat=True))


# --- screens -----------------------------------------------------------------------------


def funds_for(user: AnyUser, perm: Perm = Perm.VIEW_WELFARE) -> QuerySet[Fund]:
    """Funds of the user's branches (all of them for national roles), with figures."""
    scope = permissions.scope_for(user, perm)
    if not scope:
        return Fund.objects.none()
    qs = (
        Fund.objects.all()
        if scope.everywhere
        else Fund.objects.filter(branch_id__in=scope.branch_ids)
    )
    return funds_with_figures(qs).order_by("branch__code", "purpose")


def applications_for(user: AnyUser, perm: Perm = Perm.VIEW_WELFARE) -> QuerySet[WelfareApplication]:
    qs = WelfareApplication.objects.select_related("member", "branch", "fund__branch")
    return permissions.visible(qs, user, perm)


def national_decides(candidates: QuerySet[WelfareApplication], limit: int = 1000) -> list[int]:
    """Ids among `candidates` that the national committee decides: national funds, and
    applications whose branch committee, less the member helped, the submitter and anyone
    conflicted, is smaller than the branch's policy asks (as `deciders` says for one
    application). A fixed number of queries, however many applications."""
    rows = list(
        candidates.values_list(
            "pk", "branch_id", "member_id", "submitted_by_id", "fund__branch__is_national"
        ).order_by("-pk")[:limit]
    )
    committees: dict[int, set[int]] = {}
    for branch_id, member_id in (
        RoleAssignment.objects.current()
        .filter(role__in=deciding_roles(), branch_id__in={row[1] for row in rows})
        .values_list("branch_id", "member_id")
    ):
        committees.setdefault(branch_id, set()).add(member_id)
    submitters = dict(
        Member.objects.filter(user_id__in={row[3] for row in rows}).values_list("user_id", "pk")
    )
    conflicts: dict[int, set[int]] = {}
    for application_id, member_id in ConflictOfInterest.objects.filter(
        application_id__in=[row[0] for row in rows]
    ).values_list("application_id", "member_id"):
        conflicts.setdefault(application_id, set()).add(member_id)
    required = dict(WelfarePolicy.objects.values_list("branch_id", "approvals_required"))
    chosen = []
    for pk, branch_id, member_id, submitted_by, national_fund in rows:
        excluded = {member_id, submitters.get(submitted_by)} | conflicts.get(pk, set())
        eligible = committees.get(branch_id, set()) - excluded
        if national_fund or len(eligible) < required.get(branch_id, DEFAULT_APPROVALS):
            chosen.append(pk)
    return chosen


def queue_for(user: AnyUser) -> QuerySet[WelfareApplication]:
    """Applications waiting for the committee (or for information), oldest first, in the
    branches where the user decides. For the national committee: those it decides
    (national funds, and branches left with too few eligible committee members)."""
    qs = applications_for(user, Perm.DECIDE_WELFARE).filter(
        status__in=[ApplicationStatus.PENDING, ApplicationStatus.NEEDS_INFO]
    )
    if permissions.scope_for(user, Perm.DECIDE_WELFARE).everywhere:
        qs = qs.filter(pk__in=national_decides(qs))
    return qs.order_by("submitted_at", "id")


def reviews_for(user: AnyUser) -> QuerySet[WelfareApplication]:
    """Emergency approvals the committee has not reviewed yet."""
    return (
        applications_for(user, Perm.DECIDE_WELFARE)
        .filter(emergency=True, review="pending")
        .order_by("decided_on", "id")
    )


def unpaid_for(user: AnyUser) -> QuerySet[WelfareApplication]:
    """Approved applications waiting for a treasurer, oldest decision first."""
    return (
        applications_for(user, Perm.PAY_WELFARE)
        .filter(status=ApplicationStatus.APPROVED)
        .order_by("decided_on", "id")
    )


def transfers_for(user: AnyUser) -> QuerySet[FundTransfer]:
    scope = permissions.scope_for(user, Perm.VIEW_WELFARE)
    if not scope:
        return FundTransfer.objects.none()
    qs = FundTransfer.objects.select_related("from_fund__branch", "to_fund__branch")
    if not scope.everywhere:
        qs = qs.filter(from_fund__branch_id__in=scope.branch_ids)
    return qs.order_by("-requested_at")


def pending_transfers_for(user: AnyUser) -> QuerySet[FundTransfer]:
    return transfers_for(user).filter(status=TransferStatus.PENDING)


def own_applications(member: Member) -> QuerySet[WelfareApplication]:
    """A member's applications, each with `repaid` (minor units paid back on a loan)."""
    return with_repaid(
        WelfareApplication.objects.filter(member=member)
        .select_related("fund__branch")
        .order_by("-submitted_at", "-id")
    )


# --- loans -------------------------------------------------------------------------------


def counted_repayments() -> QuerySet[LoanRepayment]:
    """Repayments that count: not reversed as recorded by mistake."""
    return LoanRepayment.objects.filter(reversed_at__isnull=True)


def with_repaid(qs: QuerySet[WelfareApplication]) -> QuerySet[WelfareApplication]:
    """Annotate `repaid` (minor units paid back on each loan) and `outstanding` (the grant
    less that; meaningful on paid loans)."""
    repaid = Subquery(
        counted_repayments()
        .filter(application_id=OuterRef("pk"))
        .values("application_id")
        .annotate(total=Sum("amount"))
        .values("total"),
        output_field=IntegerField(),
    )
    return qs.annotate(repaid=Coalesce(repaid, Value(0))).annotate(
        outstanding=Coalesce(F("amount_granted"), Value(0)) - F("repaid")
    )


def loan_outstanding(application: WelfareApplication) -> int:
    """Minor units still owed on a paid loan (0 for anything else): the grant less what
    was paid back. Read under the application's lock when recording a repayment."""
    if not application.loan or application.status != ApplicationStatus.PAID:
        return 0
    repaid = (
        counted_repayments().filter(application=application).aggregate(total=Sum("amount"))["total"]
        or 0
    )
    return (application.amount_granted or 0) - repaid


def loans_for(user: AnyUser) -> QuerySet[WelfareApplication]:
    """Paid loans of the treasurer's branches that are not yet repaid, oldest first."""
    return (
        with_repaid(applications_for(user, Perm.PAY_WELFARE))
        .filter(loan=True, status=ApplicationStatus.PAID)
        .filter(**{"outstanding__gt": 0})  # an annotation the type checker cannot see
        .order_by("paid_on", "id")
    )


def live_payout(application: WelfareApplication) -> Payout | None:
    return Payout.objects.filter(application=application, status=PayoutStatus.PAID).first()


@dataclass(frozen=True)
class OfficeCounts:
    queue: int
    reviews: int
    unpaid: int
    transfers: int


def office_counts(user: AnyUser) -> OfficeCounts:
    """The numbers on the office home page's welfare links (bounded: a count of a page)."""
    limit = 100

    def count(qs: QuerySet[Any]) -> int:
        return len(qs.values_list("pk", flat=True)[:limit])

    decide = permissions.has_perm(user, Perm.DECIDE_WELFARE)
    return OfficeCounts(
        queue=count(queue_for(user)) if decide else 0,
        reviews=count(reviews_for(user)) if decide else 0,
        unpaid=count(unpaid_for(user)) if permissions.has_perm(user, Perm.PAY_WELFARE) else 0,
        transfers=count(pending_transfers_for(user)) if decide else 0,
    )


OFFICE_PERMS = (
    Perm.VIEW_WELFARE,
    Perm.DECIDE_WELFARE,
    Perm.PAY_WELFARE,
    Perm.EMERGENCY_WELFARE,
)


def office_applications(user: AnyUser) -> QuerySet[WelfareApplication]:
    """Applications an officer may open: those of branches where they see, decide or pay
    welfare, and those they submitted themselves (a crisis responder follows their own)."""
    q = Q(submitted_by_id=user.pk) if user.is_authenticated else Q(pk__in=[])
    for perm in OFFICE_PERMS:
        scope = permissions.scope_for(user, perm)
        if scope.everywhere:
            return WelfareApplication.objects.select_related("member", "branch", "fund__branch")
        if scope:
            q |= Q(branch_id__in=scope.branch_ids)
    return WelfareApplication.objects.filter(q).select_related("member", "branch", "fund__branch")


# --- reconciliation ------------------------------------------------------------------------


def reconciliation_branches(user: AnyUser) -> QuerySet[Branch]:
    """Branches whose reconciliation the user sees: as treasurer (pays) or auditor (exports
    the ledgers)."""
    from dues.selectors import branches_for

    return (branches_for(user, Perm.PAY_WELFARE) | branches_for(user, Perm.EXPORT_LEDGER)).order_by(
        "code"
    )


def open_items_for(user: AnyUser) -> QuerySet[ReconciliationItem]:
    """Unmatched lines nobody explained or cleared, in the user's branches, oldest day first."""
    return (
        ReconciliationItem.objects.filter(
            reconciliation__branch__in=reconciliation_branches(user),
            cleared_at__isnull=True,
            explained_at__isnull=True,
        )
        .select_related("reconciliation__branch", "payout__application")
        .order_by("reconciliation__day", "id")
    )


def reconciliations_for(user: AnyUser) -> QuerySet[Reconciliation]:
    return (
        Reconciliation.objects.filter(branch__in=reconciliation_branches(user))
        .select_related("branch")
        .order_by("-day", "branch__code")
    )
