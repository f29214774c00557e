"""Every export goes through union.exports: no cell a spreadsheet would run as a formula,
in CSV or XLSX, whatever app the rows come from."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from union.exports import safe_cell, unneutralise_formula, write_spreadsheet

ATTACKS = [
    '=HYPERLINK("http://evil.example","Click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("value", ATTACKS)
def test_every_cell_that_would_run_as_a_formula_is_plain_text(value):
    assert safe_cell(value) == "'" + value
    assert unneutralise_formula(safe_cell(value)) == value


@pytest.mark.parametrize("value", ["Awa", "Orange Money", "-1500", "-12.50", 42, None, ""])
def test_plain_values_and_numbers_are_left_alone(value):
    assert safe_cell(value) == value


def _rows() -> list[list[object]]:
    return [[value, 1000, "-10.00"] for value in ATTACKS]


def test_a_csv_export_carries_no_live_formula():
    data = b"".join(write_spreadsheet("csv", ["=name", "amount", "major"], _rows(), sheet="x"))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["'=name", "amount", "major"]
    assert [row[0] for row in rows[1:]] == ["'" + value for value in ATTACKS]
    assert all(row[2] == "-10.00" for row in rows[1:])


def test_an_xlsx_export_carries_no_live_formula():
    data = b"".join(write_spreadsheet("xlsx", ["name", "amount", "major"], _rows(), sheet="x"))
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    cells = [cell for row in sheet.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    names = [sheet.cell(row=n + 2, column=1).value for n in range(len(ATTACKS))]
    assert names[:4] == ["'" + value for value in ATTACKS[:4]]
    assert all(name.startswith("'") for name in names)


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="pdf"):
        write_spreadsheet("pdf", [], [], sheet="x")
