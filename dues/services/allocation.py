"""Which credit settles which debit. Call only inside a transaction holding the member's lock.

Credits (payments, waivers, corrections of debits) settle debits (charges, refunds,
corrections of credits), oldest debit first: a payment pays the oldest open month, a
payment larger than what is owed waits as credit and settles the next months as they are
charged. Every change is a new Allocation row; a release is a negative row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from django.db.models import Sum

from dues.models import Allocation, LedgerEntry
from dues.selectors import counts_q


@dataclass
class _Row:
    entry: LedgerEntry
    left: int  # minor units still open (debit) or free (credit)


def _sums(member_ids: Collection[int], field: str) -> dict[int, int]:
    return {
        row[field]: row["total"]
        for row in Allocation.objects.filter(member_id__in=member_ids)
        .values(field)
        .annotate(total=Sum("amount"))
    }


def _positions(member_ids: Collection[int]) -> dict[int, tuple[list[_Row], list[_Row]]]:
    """position() of each member, in three queries whatever their number."""
    entries = list(
        LedgerEntry.objects.filter(member_id__in=member_ids)
        .filter(counts_q())
        .only("id", "amount", "currency", "kind", "period", "owed_since", "booked_on", "member_id")
    )
    settled = _sums(member_ids, "debit_id")
    used = _sums(member_ids, "credit_id")
    positions: dict[int, tuple[list[_Row], list[_Row]]] = {pk: ([], []) for pk in member_ids}
    for e in entries:
        debits, credits = positions[e.member_id]
        if e.amount > 0:
            left = e.amount - settled.get(e.id, 0)
            if left > 0:
                debits.append(_Row(e, left))
        elif e.amount < 0:
            left = -e.amount - used.get(e.id, 0)
            if left > 0:
                credits.append(_Row(e, left))
    for debits, credits in positions.values():
        debits.sort(key=lambda d: (_age(d.entry), d.entry.id))
        credits.sort(key=lambda c: (c.entry.booked_on, c.entry.id))
    return positions


def position(member_id: int) -> tuple[list[_Row], list[_Row]]:
    """(open debits oldest first, free credits oldest first) of rows that count."""
    return _positions([member_id])[member_id]


def _age(entry: LedgerEntry) -> date:
    """The month a debit settles in: a charge's month, carried arrears' oldest month."""
    return entry.period or entry.owed_since or entry.booked_on


def allocate(*, credit: LedgerEntry, debit: LedgerEntry, amount: int) -> None:
    if amount:
        Allocation.objects.create(
            member_id=credit.member_id, credit=credit, debit=debit, amount=amount
        )


def settle(member_id: int) -> int:
    """Match free credit to open debits, oldest first. Returns minor units newly settled."""
    return settle_many([member_id])


def settle_many(member_ids: Collection[int]) -> int:
    """settle() for several members at once (each under its lock): three reads and one
    insert in all. Returns minor units newly settled."""
    rows: list[Allocation] = []
    moved = 0
    for member_id, (debits, credits) in _positions(member_ids).items():
        # Money settles money of its own currency only: a member who moved branch has rows
        # in two (the old ones all settled by the closing row, dues.services.moves).
        for currency in {row.entry.currency for row in debits}:
            moved += _match(
                member_id,
                [d for d in debits if d.entry.currency == currency],
                [c for c in credits if c.entry.currency == currency],
                rows,
            )
    Allocation.objects.bulk_create(rows)
    return moved


def _match(member_id: int, debits: list[_Row], credits: list[_Row], rows: list[Allocation]) -> int:
    moved = 0
    di = ci = 0
    while di < len(debits) and ci < len(credits):
        debit, credit = debits[di], credits[ci]
        amount = min(debit.left, credit.left)
        rows.append(
            Allocation(member_id=member_id, credit=credit.entry, debit=debit.entry, amount=amount)
        )
        moved += amount
        debit.left -= amount
        credit.left -= amount
        if not debit.left:
            di += 1
        if not credit.left:
            ci += 1
    return moved


def _live_pairs(member_id: int, **filters: int) -> dict[tuple[int, int], int]:
    pairs: dict[tuple[int, int], int] = defaultdict(int)
    for row in (
        Allocation.objects.filter(member_id=member_id, **filters)
        .values("credit_id", "debit_id")
        .annotate(total=Sum("amount"))
    ):
        if row["total"]:
            pairs[(row["credit_id"], row["debit_id"])] = row["total"]
    return pairs


def release_debit(debit: LedgerEntry) -> None:
    """Undo every settlement of this debit (it is being corrected)."""
    for (credit_id, debit_id), total in _live_pairs(debit.member_id, debit_id=debit.id).items():
        Allocation.objects.create(
            member_id=debit.member_id, credit_id=credit_id, debit_id=debit_id, amount=-total
        )


def release_credit(credit: LedgerEntry, amount: int | None = None) -> None:
    """Free `amount` (default all) of what this credit settles, newest debits first."""
    pairs = _live_pairs(credit.member_id, credit_id=credit.id)
    if not pairs:
        return
    debit_order = {
        e.id: (e.period or e.booked_on, e.id)
        for e in LedgerEntry.objects.filter(id__in=[d for _c, d in pairs]).only(
            "id", "period", "booked_on"
        )
    }
    remaining = sum(pairs.values()) if amount is None else amount
    for (credit_id, debit_id), total in sorted(
        pairs.items(), key=lambda item: debit_order[item[0][1]], reverse=True
    ):
        if remaining <= 0:
            break
        take = min(total, remaining)
        Allocation.objects.create(
            member_id=credit.member_id, credit_id=credit_id, debit_id=debit_id, amount=-take
        )
        remaining -= take


def free_credit(credit: LedgerEntry) -> int:
    used = Allocation.objects.filter(credit=credit).aggregate(total=Sum("amount"))["total"] or 0
    return -credit.amount - used
