"""A member forgotten at her request: the ledger still adds up to the same totals, and the
reasons officers wrote about her (a waiver may describe her hardship) are gone."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.db.models import Count, Sum

from dues import selectors
from dues.models import Allocation, EntryKind, LedgerEntry
from dues.services import ledger
from tests.dues.conftest import JOINED, THRESHOLD, charge, pay
from tests.factories import MemberFactory
from union.models import Member
from union.registry import personal_data_providers
from union.services.erasure import erase_member

pytestmark = pytest.mark.django_db

HARDSHIP = "Zqxhardship: her son is in hospital"


@pytest.fixture
def awa(bamako, bko_plan, treasurer, secretary) -> Member:
    member = MemberFactory(branch=bamako, working_name="Awa Erased", joined_on=JOINED)
    charge(bamako, "2026-08", "2026-09", "2026-10", "2026-11")
    pay(treasurer, member, 1000, "R1")
    big = pay(treasurer, member, THRESHOLD + 1000, "R2")
    ledger.confirm_payment(actor=secretary.user, entry=big)
    reversal = ledger.reverse_entry(actor=treasurer.user, entry=big, reason="Zqxwrong member")
    ledger.confirm_payment(actor=secretary.user, entry=reversal)
    ledger.grant_waiver(actor=treasurer.user, member=member, amount=2000, reason=HARDSHIP)
    return member


def _totals() -> tuple[object, ...]:
    rows = LedgerEntry.objects.aggregate(n=Count("id"), total=Sum("amount"))
    allocated = Allocation.objects.aggregate(n=Count("id"), total=Sum("amount"))
    per_branch = sorted(LedgerEntry.objects.values_list("branch_id").annotate(total=Sum("amount")))
    return rows["n"], rows["total"], allocated["n"], allocated["total"], per_branch


@pytest.mark.embedded  # the append-only ledger lets the reasons be erased, on SQLite too
def test_erasure_leaves_the_ledger_totals_unchanged(awa, secretary):
    before = (_totals(), selectors.summary(awa))
    erase_member(actor=secretary.user, member=awa)
    awa.refresh_from_db()
    assert (_totals(), selectors.summary(awa)) == before
    assert set(LedgerEntry.objects.filter(member=awa).values_list("reason", flat=True)) == {""}
    assert LedgerEntry.objects.filter(member=awa, kind=EntryKind.WAIVER).exists()


def test_the_dues_part_of_her_copy_lists_her_account(awa):
    from django.utils import translation

    with translation.override("en"):
        sections = [s for provider in personal_data_providers() for s in provider(awa)]
    dues = next(s for s in sections if str(s.title) == "Your dues account")
    assert len(dues.rows) == LedgerEntry.objects.filter(member=awa).count()
    assert not [cell for row in dues.rows for cell in row if "Zqx" in str(cell)]


@pytest.mark.vendor("postgresql")
def test_the_ledger_still_refuses_every_other_change(awa):
    waiver = LedgerEntry.objects.get(member=awa, kind=EntryKind.WAIVER)
    charge_row = LedgerEntry.objects.filter(member=awa, kind=EntryKind.CHARGE).first()
    for sql, pk in (
        ("UPDATE dues_ledgerentry SET amount = amount - 1 WHERE id = %s", waiver.pk),
        ("UPDATE dues_ledgerentry SET reason = '', amount = amount - 1 WHERE id = %s", waiver.pk),
        ("UPDATE dues_ledgerentry SET reason = '' WHERE id = %s", charge_row.pk),  # no reason
        ("DELETE FROM dues_ledgerentry WHERE id = %s", waiver.pk),
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [pk])
    waiver.refresh_from_db()
    assert waiver.reason == HARDSHIP
