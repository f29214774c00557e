"""The monthly run: charge every active member of a branch once per month, set-based.

On PostgreSQL the charges are one INSERT ... SELECT ... ON CONFLICT DO NOTHING: no loop
of per-member queries, and the unique (member, period) index makes two runs at once
(beat and an officer at the command line, say) insert each charge exactly once.
Elsewhere (SQLite, the embedded default) the same rows go through bulk_create with
ignore_conflicts, inside one write transaction.

After charging: credit paid in advance settles the new charges, members now behind
beyond the grace months lapse, and on reminder day the outbox gets the reminders.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from dues import money
from dues.models import Allocation, DuesAccount, DuesPlan, EntryKind, LedgerEntry, Rate
from dues.selectors import arrears_beyond_grace, counts_q, owed_months_subquery
from dues.services import allocation
from dues.services.common import lapse_reason, lock_member, sync_standing
from union.models import (
    AuditAction,
    AuditEvent,
    Branch,
    ContactPreference,
    Member,
    MemberStatus,
    MemberStatusChange,
)


@dataclass
class RunResult:
    period: date
    charged: int = 0
    totals: dict[str, int] = field(default_factory=dict)  # currency -> minor units
    dry_run: bool = False


def _branch_ids(branch: Branch | None) -> list[int]:
    plans = DuesPlan.objects.all()
    if branch is not None:
        plans = plans.filter(branch=branch)
    return list(plans.values_list("branch_id", flat=True))


def candidates(period: date, branch_ids: list[int]) -> QuerySet[Any]:
    """Active members of branches with a plan who owe dues for `period`.

    A member who joined after the 1st pays that month only if the plan says so; one who
    joined after the month ends does not pay it at all.
    """
    end = money.month_end(period)
    return Member.objects.filter(
        Q(joined_on__isnull=True)
        | Q(joined_on__lte=period)
        | Q(joined_on__lte=end, branch__dues_plan__charge_joining_month=True),
        status=MemberStatus.ACTIVE,
        branch_id__in=branch_ids,
    ).annotate(
        due=Case(
            When(
                dues_account__rate=Rate.SOLIDARITY,
                then=F("branch__dues_plan__solidarity_amount"),
            ),
            default=F("branch__dues_plan__monthly_amount"),
            output_field=IntegerField(),
        ),
        due_currency=F("branch__dues_plan__currency"),
    )


def _uncharged(period: date, branch_ids: list[int]) -> QuerySet[Any]:
    return candidates(period, branch_ids).exclude(
        Exists(LedgerEntry.objects.filter(member_id=OuterRef("pk"), period=period))
    )


_INSERT_SQL = """
WITH inserted AS (
    INSERT INTO {ledger} (
        public_id, member_id, branch_id, kind, amount, currency, period, booked_on,
        method, provider, external_id, receipt_number, reason, needs_confirmation, recorded_at
    )
    SELECT gen_random_uuid(), m.id, m.branch_id, 'charge',
           CASE WHEN a.rate = 'solidarity' THEN p.solidarity_amount ELSE p.monthly_amount END,
           p.currency, %(period)s, %(period)s, '', '', '', '', '', false, now()
    FROM {member} m
    JOIN {plan} p ON p.branch_id = m.branch_id
    LEFT JOIN {account} a ON a.member_id = m.id
    WHERE m.status = 'active'
      AND m.branch_id = ANY(%(branches)s)
      AND (m.joined_on IS NULL OR m.joined_on <= %(period)s
           OR (p.charge_joining_month AND m.joined_on <= %(end)s))
    ON CONFLICT (member_id, period) DO NOTHING
    RETURNING currency, amount
)
SELECT currency, count(*), coalesce(sum(amount), 0) FROM inserted GROUP BY currency
"""


def _insert_sql() -> str:
    quote = connection.ops.quote_name
    return _INSERT_SQL.format(
        ledger=quote(LedgerEntry._meta.db_table),
        member=quote(Member._meta.db_table),
        plan=quote(DuesPlan._meta.db_table),
        account=quote(DuesAccount._meta.db_table),
    )


def _charge_postgresql(period: date, branch_ids: list[int], result: RunResult) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            _insert_sql(),
            {"period": period, "end": money.month_end(period), "branches": branch_ids},
        )
        for currency, count, total in cursor.fetchall():
            result.charged += count
            result.totals[currency] = int(total)


def _charge_portable(period: date, branch_ids: list[int], result: RunResult) -> None:
    now = timezone.now()
    rows = [
        LedgerEntry(
            member_id=member_id,
            branch_id=branch_id,
            kind=EntryKind.CHARGE,
            amount=due,
            currency=currency,
            period=period,
            booked_on=period,
            recorded_at=now,
        )
        for member_id, branch_id, due, currency in _uncharged(period, branch_ids)
        .values_list("pk", "branch_id", "due", "due_currency")
        .iterator(chunk_size=2000)
    ]
    # The write transaction is held from the read above (SQLite: BEGIN IMMEDIATE), so no
    # other run can insert in between; ignore_conflicts is the belt to those braces.
    LedgerEntry.objects.bulk_create(rows, batch_size=500, ignore_conflicts=True)
    totals: dict[str, int] = defaultdict(int)
    for row in rows:
        totals[row.currency] += row.amount
    result.charged = len(rows)
    result.totals = dict(totals)


def charge_period(
    *, period: date, branch: Branch | None = None, dry_run: bool = False
) -> RunResult:
    """Charge `period` (a month) to every member who owes it; safe to run any number of
    times. With dry_run nothing is written and the result says what would be charged."""
    period = money.month_start(period)
    result = RunResult(period=period, dry_run=dry_run)
    branch_ids = _branch_ids(branch)
    if not branch_ids:
        return result
    if dry_run:
        for row in (
            _uncharged(period, branch_ids)
            .values("due_currency")
            .annotate(total=Sum("due"), count=Count("pk"))
            .order_by()
        ):
            result.charged += row["count"]
            result.totals[row["due_currency"]] = row["total"]
        return result
    with transaction.atomic():
        if connection.vendor == "postgresql":
            _charge_postgresql(period, branch_ids, result)
        else:
            _charge_portable(period, branch_ids, result)
    return result


# --- after charging ------------------------------------------------------------------


def members_with_free_credit(branch_ids: list[int]) -> list[int]:
    used = Subquery(
        Allocation.objects.filter(credit_id=OuterRef("pk"))
        .values("credit_id")
        .annotate(total=Sum("amount"))
        .values("total"),
        output_field=IntegerField(),
    )
    return list(
        LedgerEntry.objects.filter(amount__lt=0, branch_id__in=branch_ids)
        .filter(counts_q())
        .annotate(used=Coalesce(used, Value(0)))
        .filter(used__lt=-F("amount"))
        .values_list("member_id", flat=True)
        .distinct()
    )


def settle_credit(*, branch: Branch | None = None) -> int:
    """Let money paid ahead settle charges made since. Returns members touched."""
    ids = members_with_free_credit(_branch_ids(branch))
    for member_id in ids:
        with transaction.atomic():
            member = lock_member(member_id)
            allocation.settle(member_id)
            sync_standing(member)
    return len(ids)


LAPSE_CHUNK = 1000  # members locked and lapsed per transaction


def lapse_members_in_arrears(*, branch: Branch | None = None) -> int:
    """Active members now behind beyond their grace months become lapsed (status history
    records the system, the audit log the change). Set-based, LAPSE_CHUNK members per
    transaction. Returns how many lapsed."""
    branches = Branch.objects.filter(pk__in=_branch_ids(branch)).order_by("pk")
    return sum(_lapse_branch(b) for b in branches)


def _lapse_branch(branch: Branch) -> int:
    behind = Member.objects.filter(status=MemberStatus.ACTIVE, branch=branch).filter(
        arrears_beyond_grace()
    )
    reason = lapse_reason(branch)
    lapsed = after = 0
    while True:
        with transaction.atomic():
            # Lock a chunk (payments take the same lock), then ask again in a new statement:
            # a payment that committed while a lock was awaited must count.
            locked = list(
                behind.select_for_update()
                .filter(pk__gt=after)
                .order_by("pk")
                .values_list("pk", flat=True)[:LAPSE_CHUNK]
            )
            if not locked:
                return lapsed
            after = locked[-1]
            members = list(behind.filter(pk__in=locked).values_list("pk", "public_id"))
            now = timezone.now()
            MemberStatusChange.objects.bulk_create(
                MemberStatusChange(
                    member_id=pk,
                    from_status=MemberStatus.ACTIVE,
                    to_status=MemberStatus.LAPSED,
                    reason=reason,
                    changed_at=now,
                )
                for pk, _public_id in members
            )
            Member.objects.filter(pk__in=[pk for pk, _ in members]).update(
                status=MemberStatus.LAPSED, status_changed_at=now
            )
            AuditEvent.objects.bulk_create(
                AuditEvent(
                    action=AuditAction.MEMBER_STATUS, target=f"member:{public_id}", branch=branch
                )
                for _pk, public_id in members
            )
            lapsed += len(members)


REMINDER_CHUNK = 500  # reminders written per bulk insert


def queue_reminders(*, branch: Branch, today: date | None = None) -> int:
    """A reminder in the outbox for each active member at least one month behind who agreed
    to be contacted: once per member and month (dedupe key). Nobody else gets anything."""
    from union.notifications.services import choose_channel, notify_members

    today = today or money.local_today(branch.time_zone)
    current = money.month_start(today)
    balance = Subquery(
        LedgerEntry.objects.filter(member_id=OuterRef("pk"))
        .filter(counts_q())
        .values("member_id")
        .annotate(total=Sum("amount"))
        .values("total"),
        output_field=IntegerField(),
    )
    members = (
        Member.objects.filter(branch=branch, status=MemberStatus.ACTIVE)
        .exclude(contact_preference=ContactPreference.NONE)
        .annotate(behind=Coalesce(owed_months_subquery(current), Value(0)), balance=balance)
        .filter(behind__gte=1)
        .select_related("branch")
    )
    queued = 0
    batch: list[tuple[Member, str, dict[str, Any]]] = []
    for member in members.iterator(chunk_size=REMINDER_CHUNK):
        if not choose_channel(member):
            continue
        context = {
            "months": member.behind,
            "amount": max(member.balance or 0, 0),
            "currency": branch.currency,
        }
        batch.append((member, f"dues-reminder:{member.pk}:{current:%Y-%m}", context))
        queued += 1
        if len(batch) == REMINDER_CHUNK:
            notify_members(kind="dues_reminder", messages_for=batch)
            batch = []
    notify_members(kind="dues_reminder", messages_for=batch)
    return queued
