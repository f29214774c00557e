"""The daily reconciliation: payouts against the cash book and the mobile-money statement.

For one branch and one day: every mobile-money payout must be on the operator's statement
(matched by the operator's reference, for the amount sent, with or without its fee);
every line of the statement that day must be a payout, a dues payment or a loan
repayment recorded here; every cash payout must be in the closed cash book of its day.
What does not match becomes an open item for the treasurer and the auditor.

Running a day again rewrites only what changed: items still unmatched stay as they are,
items now matched are cleared (never deleted: the auditor sees what was found), new
ones are added. So running twice gives the same result, and a statement imported late
or a cash book closed late clears the items at the next run. Bank transfers have no
statement here yet and are not reconciled.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dues import money
from dues.models import CashBookClose, LedgerEntry, Method
from dues.welfare.audit import WelfareAction
from dues.welfare.models import LoanRepayment, Payout, PayoutMethod, PayoutStatus
from dues.welfare.statements import Problem, Reconciliation, ReconciliationItem, StatementLine
from union.imports.reading import (
    XLSX_MAGIC,
    ImportFileError,
    _csv_rows,
    _xlsx_rows,
    cell_text,
    too_big_message,
)
from union.models import Branch, Member, RoleAssignment
from union.permissions import GRANTS, Perm, has_perm, require
from union.services.audit import record_access

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# How far back the daily job looks again at days that still have open items.
RECHECK_DAYS = 31
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-_/]{2,99}$")
_HEADERS = {
    "date": ("date", "day", "jour", "date de transaction", "transaction date"),
    "reference": ("reference", "référence", "ref", "transaction id", "id transaction", "txn id"),
    "amount": ("amount", "montant"),
    "fee": ("fee", "fees", "frais"),
}


# --- the statement -------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedLine:
    booked_on: date
    reference: str
    amount: int  # minor units, signed
    fee: int  # minor units


@dataclass(frozen=True)
class StatementImport:
    created: int
    repeated: int  # lines imported before, identical: skipped
    days: list[date]


def _header_index(headers: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for position, header in enumerate(headers):
        name = " ".join(header.lower().replace("_", " ").split())
        for column, names in _HEADERS.items():
            if name in names and column not in found:
                found[column] = position
    missing = [c for c in ("date", "reference", "amount") if c not in found]
    if missing:
        raise ValidationError(
            _("The statement needs the columns date, reference and amount (fee is optional)."),
            code="columns",
        )
    return found


def _parse_date(text: str) -> date:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text[:10], fmt).date()  # noqa: DTZ007 - a calendar day
        except ValueError:
            continue
    raise ValueError(text)


def _parse_amount(text: str, currency: str) -> int:
    cleaned = "".join(text.replace("\u202f", "").split())
    if "," in cleaned and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    else:
        cleaned = cleaned.replace(",", "")
    try:
        return money.to_minor(Decimal(cleaned), currency)
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(text) from exc


def _read_rows(data: bytes, filename: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (line number, cells) of a CSV or XLSX upload, with the register import's
    safeguards (encodings, damaged or inflated spreadsheets) but no register columns."""
    if len(data) > settings.IMPORT_MAX_BYTES:
        raise ImportFileError(too_big_message())
    if not data.strip():
        raise ImportFileError(_("The file is empty."))
    xlsx = data.startswith(XLSX_MAGIC) or filename.lower().endswith(".xlsx")
    raw = _xlsx_rows(data) if xlsx else _csv_rows(data)
    headers: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    for number, values in enumerate(raw, start=1):
        cells = [cell_text(value) for value in values]
        if not any(cells):
            continue
        if headers is None:
            headers = cells
        else:
            rows.append((number, cells))
    return headers or [], rows


def parse_statement(data: bytes, filename: str, currency: str) -> list[ParsedLine]:
    """The lines of an operator's statement (CSV or XLSX; amounts in major units, negative
    for money out). Any bad line refuses the whole file, naming the line (never its
    content: it is someone's transaction)."""
    try:
        headers, rows = _read_rows(data, filename)
    except ImportFileError as exc:
        raise ValidationError(exc.messages, code="file") from exc
    index = _header_index(headers)
    lines: list[ParsedLine] = []
    for number, cells in rows:
        try:
            reference = cells[index["reference"]].strip()
            if not _REFERENCE.match(reference):
                raise ValueError(number)
            amount = _parse_amount(cells[index["amount"]], currency)
            fee_text = cells[index["fee"]].strip() if "fee" in index else ""
            fee = abs(_parse_amount(fee_text, currency)) if fee_text else 0
            booked_on = _parse_date(cells[index["date"]].strip())
            if amount == 0:
                raise ValueError(number)
        except (ValueError, IndexError):
            raise ValidationError(
                _(
                    "Line %(line)s of the statement cannot be read: check its date, "
                    "reference and amount."
                )
                % {"line": number},
                code="line",
            ) from None
        lines.append(ParsedLine(booked_on=booked_on, reference=reference, amount=amount, fee=fee))
    if not lines:
        raise ValidationError(_("The statement has no lines."), code="empty")
    return lines


def import_statement(
    *, actor: User, branch: Branch, provider: str, lines: Iterable[ParsedLine]
) -> StatementImport:
    """Store an operator's statement for the branch's account and reconcile the days it
    covers. Lines imported before (same reference) are skipped when identical; a line
    whose reference was imported with other figures refuses the whole statement.
    Side effect: the days are reconciled (and the treasurer and auditor told of new
    unmatched items)."""
    require(actor, Perm.PAY_WELFARE, branch.pk)
    provider = " ".join(provider.split())[:40]
    if not provider:
        raise ValidationError({"provider": _("Say which operator the statement is from.")})
    lines = list(lines)
    references = [line.reference for line in lines]
    if len(set(references)) != len(references):
        raise ValidationError(_("A reference appears twice in the statement."), code="twice")
    batch = uuid.uuid4()
    with transaction.atomic():
        Branch.objects.select_for_update(no_key=True).filter(pk=branch.pk).first()
        known = {
            row.reference: row
            for row in StatementLine.objects.filter(
                branch=branch, provider=provider, reference__in=references
            )
        }
        new = []
        for line in lines:
            old = known.get(line.reference)
            if old is None:
                new.append(
                    StatementLine(
                        branch=branch,
                        provider=provider,
                        reference=line.reference,
                        booked_on=line.booked_on,
                        amount=line.amount,
                        fee=line.fee,
                        currency=branch.currency,
                        batch=batch,
                        imported_by=actor,
                    )
                )
            elif (old.booked_on, old.amount, old.fee) != (line.booked_on, line.amount, line.fee):
                raise ValidationError(
                    _(
                        "A reference of this statement was imported before with another date "
                        "or amount. Nothing was imported: check the file with the operator."
                    ),
                    code="changed",
                )
        StatementLine.objects.bulk_create(new)
        record_access(
            actor=actor,
            action=WelfareAction.STATEMENT,
            target=f"statement:{batch}",
            branch=branch,
            rows=len(new),
        )
        days = sorted({line.booked_on for line in lines})
        for day in days:
            reconcile_day(branch=branch, day=day)
    return StatementImport(created=len(new), repeated=len(lines) - len(new), days=days)


# --- the check of one day ------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    key: str
    problem: str
    amount: int
    method: str = ""
    provider: str = ""
    reference: str = ""
    payout_id: int | None = None
    line_id: int | None = None


def check_day(branch: Branch, day: date) -> tuple[int, list[Found]]:
    """(what matched, what did not) for a branch's day, without writing anything."""
    payouts = list(
        Payout.objects.filter(application__branch=branch, paid_on=day).exclude(
            method=PayoutMethod.BANK_TRANSFER
        )
    )
    mobile = [p for p in payouts if p.method == PayoutMethod.MOBILE_MONEY]
    day_lines = list(StatementLine.objects.filter(branch=branch, booked_on=day))
    references = {p.reference for p in mobile} | {line.reference for line in day_lines}
    lines_by_ref = {
        line.reference: line
        for line in StatementLine.objects.filter(branch=branch, reference__in=references)
    }
    coverage = {
        row["provider"].casefold(): (row["first"], row["last"])
        for row in StatementLine.objects.filter(branch=branch)
        .values("provider")
        .annotate(first=Min("booked_on"), last=Max("booked_on"))
    }
    matched = 0
    found: list[Found] = []
    paid_refs: set[str] = set()
    for payout in mobile:
        paid_refs.add(payout.reference)
        if payout.status != PayoutStatus.PAID:
            continue  # reversed: the money came back; its lines are still "recorded"
        line = lines_by_ref.get(payout.reference)
        base = Found(
            key=f"payout:{payout.public_id}",
            problem=Problem.NOT_ON_STATEMENT,
            amount=-payout.amount,
            method=payout.method,
            provider=payout.provider,
            reference=payout.reference,
            payout_id=payout.pk,
        )
        if line is None:
            span = coverage.get(payout.provider.casefold())
            if span is None or not span[0] <= day <= span[1]:
                base = replace(base, problem=Problem.NO_STATEMENT)
            found.append(base)
        elif -line.amount not in (payout.amount, payout.amount + payout.fee):
            found.append(replace(base, problem=Problem.AMOUNT_DIFFERS, line_id=line.pk))
        else:
            matched += 1
    # Lines of the day that nothing here recorded: not a payout, dues or a repayment.
    others = {line.reference for line in day_lines} - paid_refs
    recorded = set(
        LedgerEntry.objects.filter(
            branch=branch, method=Method.MOBILE_MONEY, external_id__in=others
        ).values_list("external_id", flat=True)
    ) | set(
        LoanRepayment.objects.filter(application__branch=branch, reference__in=others).values_list(
            "reference", flat=True
        )
    )
    recorded |= set(  # a payout of another day that the operator booked on this one
        Payout.objects.filter(
            application__branch=branch, method=PayoutMethod.MOBILE_MONEY, reference__in=others
        ).values_list("reference", flat=True)
    )
    for line in day_lines:
        if line.reference in paid_refs:
            continue  # counted with its payout above
        if line.reference in recorded:
            matched += 1
            continue
        found.append(
            Found(
                key=f"line:{line.public_id}",
                problem=Problem.NOT_RECORDED,
                amount=line.amount,
                method=PayoutMethod.MOBILE_MONEY,
                provider=line.provider,
                reference=line.reference,
                line_id=line.pk,
            )
        )
    cash = [p for p in payouts if p.method == PayoutMethod.CASH and p.status == PayoutStatus.PAID]
    if cash:
        close = CashBookClose.objects.filter(branch=branch, day=day).first()
        in_book = set(close.cash_payouts) if close is not None else set()
        for payout in cash:
            if close is not None and str(payout.public_id) in in_book:
                matched += 1
                continue
            found.append(
                Found(
                    key=f"payout:{payout.public_id}",
                    problem=Problem.CASH_BOOK_OPEN if close is None else Problem.NOT_IN_CASH_BOOK,
                    amount=-payout.amount,
                    method=payout.method,
                    reference=payout.reference,
                    payout_id=payout.pk,
                )
            )
    return matched, found


def reconcile_day(*, branch: Branch, day: date) -> Reconciliation:
    """Check a branch's day and keep its items in step (see the module's docstring).
    Side effect: the treasurer and auditor are told when items appear that were not
    open before."""
    matched, found = check_day(branch, day)
    now = timezone.now()
    with transaction.atomic():
        run, _created = Reconciliation.objects.get_or_create(branch=branch, day=day)
        run = Reconciliation.objects.select_for_update().get(pk=run.pk)
        items = {item.key: item for item in run.items.all()}
        current = {f.key: f for f in found}
        appeared = 0
        for key, item in items.items():
            if key not in current and item.cleared_at is None:
                item.cleared_at = now
                item.save(update_fields=["cleared_at"])
            elif key in current and (
                item.cleared_at is not None or item.problem != current[key].problem
            ):
                appeared += item.cleared_at is not None
                item.cleared_at = None
                item.problem = current[key].problem
                item.amount = current[key].amount
                item.save(update_fields=["cleared_at", "problem", "amount"])
        new = [
            ReconciliationItem(
                reconciliation=run,
                key=f.key,
                problem=f.problem,
                amount=f.amount,
                currency=branch.currency,
                method=f.method,
                provider=f.provider,
                reference=f.reference,
                payout_id=f.payout_id,
                line_id=f.line_id,
            )
            for key, f in current.items()
            if key not in items
        ]
        ReconciliationItem.objects.bulk_create(new)
        appeared += len(new)
        run.matched = matched
        run.unmatched = len(current)
        run.ran_at = now
        run.save(update_fields=["matched", "unmatched", "ran_at"])
        record_access(
            actor=None,
            action=WelfareAction.RECONCILE,
            target=f"reconciliation:{branch.code}:{day.isoformat()}",
            branch=branch,
            rows=len(current),
        )
        if appeared:
            _tell_treasurer_and_auditor(run, appeared)
    return run


def _tell_treasurer_and_auditor(run: Reconciliation, appeared: int) -> None:
    from union.notifications.services import notify_member

    roles = [
        role
        for role, perms in GRANTS.items()
        if Perm.PAY_WELFARE in perms or Perm.EXPORT_LEDGER in perms
    ]
    holders = (
        RoleAssignment.objects.current()
        .filter(role__in=roles)
        .filter(Q(branch_id=run.branch_id) | Q(branch__is_national=True))
        .values_list("member_id", flat=True)
    )
    open_count = run.items.filter(cleared_at__isnull=True, explained_at__isnull=True).count()
    for member in Member.objects.filter(pk__in=set(holders)):
        notify_member(
            member=member,
            kind="welfare_unmatched",
            dedupe_key=f"welfare_unmatched:{run.pk}:{member.pk}:{run.ran_at.isoformat()}",
            context={"day": run.day.isoformat(), "count": open_count or appeared},
        )


def reconcile_recent(*, today_by_branch: dict[int, date] | None = None) -> int:
    """The daily job: each branch's yesterday (in its own time zone), and earlier days of
    the last RECHECK_DAYS that still have open items. Returns the days checked."""
    checked = 0
    for branch in Branch.objects.all():
        today = (today_by_branch or {}).get(branch.pk) or money.local_today(branch.time_zone)
        yesterday = today - timedelta(days=1)
        days = {yesterday}
        days |= set(
            ReconciliationItem.objects.filter(
                reconciliation__branch=branch,
                reconciliation__day__gte=today - timedelta(days=RECHECK_DAYS),
                cleared_at__isnull=True,
                explained_at__isnull=True,
            ).values_list("reconciliation__day", flat=True)
        )
        active = Payout.objects.filter(application__branch=branch, paid_on=yesterday).exists()
        active = active or StatementLine.objects.filter(branch=branch, booked_on=yesterday).exists()
        if not active and not Reconciliation.objects.filter(branch=branch, day=yesterday).exists():
            days.discard(yesterday)
        for day in sorted(days):
            reconcile_day(branch=branch, day=day)
            checked += 1
    return checked


def reconcile_again(*, actor: User, branch: Branch, day: date) -> Reconciliation:
    """A treasurer asks for a day to be checked now (after closing its cash book, say)."""
    require(actor, Perm.PAY_WELFARE, branch.pk)
    if day > money.local_today(branch.time_zone):
        raise ValidationError({"day": _("Choose a day that has started.")}, code="future")
    return reconcile_day(branch=branch, day=day)


def explain_item(*, actor: User, item: ReconciliationItem, explanation: str) -> ReconciliationItem:
    """The treasurer or the auditor says why an unmatched line is right (an operator's
    delay, a receipt found). Explaining twice keeps the first explanation."""
    branch_id = item.reconciliation.branch_id
    if not (
        has_perm(actor, Perm.PAY_WELFARE, branch_id)
        or has_perm(actor, Perm.EXPORT_LEDGER, branch_id)
    ):
        raise PermissionDenied
    explanation = explanation.strip()[:1000]
    if not explanation:
        raise ValidationError({"explanation": _("Say why this line is right.")}, code="empty")
    with transaction.atomic():
        item = (
            ReconciliationItem.objects.select_for_update()
            .select_related("reconciliation__branch")
            .get(pk=item.pk)
        )
        if item.explained_at is not None:
            return item
        item.explanation = explanation
        item.explained_by = actor
        item.explained_at = timezone.now()
        item.save(update_fields=["explanation", "explained_by", "explained_at"])
        record_access(
            actor=actor,
            action=WelfareAction.EXPLAIN,
            target=f"reconciliation_item:{item.pk}",
            branch=item.reconciliation.branch,
        )
    return item
