"""Every spreadsheet the union hands out is written here, CSV or XLSX, whatever app it
comes from (the register, the ledger; welfare and crisis exports to come).

A spreadsheet runs a cell that starts with "=", "+", "-" or "@" as a formula (tab and
carriage return can shift one into place): text typed by anyone (a name, a note, a
mobile-money operator) could then open a link or run a command on the officer's computer
("CSV injection", OWASP). Every text cell goes through safe_cell on its way into the file,
so no export can forget it: a leading apostrophe makes such a cell plain text, and
union.imports reads it back to the same value (unneutralise_formula).
"""

from __future__ import annotations

import csv
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# A negative number ("-1500.00") cannot call anything: it stays a number.
_PLAIN_NEGATIVE = re.compile(r"^-\d+(\.\d+)?$")

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def neutralise_formula(value: str) -> str:
    if value.startswith(FORMULA_TRIGGERS) and not _PLAIN_NEGATIVE.match(value):
        return "'" + value
    return value


def unneutralise_formula(value: str) -> str:
    """Undo neutralise_formula, so an exported file imports back to the same values."""
    if value.startswith("'") and value[1:2] and value[1:2] in "=+-@\t\r":
        return value[1:]
    return value


def safe_cell(value: Any) -> Any:
    """The value as a spreadsheet should show it: text that would run is neutralised;
    numbers, dates and empty cells are left as they are."""
    return neutralise_formula(value) if isinstance(value, str) else value


def write_spreadsheet(
    fmt: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], *, sheet: str
) -> Iterator[bytes]:
    """The bytes of the file, produced as `rows` are read: CSV (UTF-8 with a byte-order mark,
    so that spreadsheet programs open accents and Khmer correctly) or XLSX (one sheet).
    Every cell, headers included, goes through safe_cell. ValueError for another format."""
    if fmt == "csv":
        return _csv(headers, rows)
    if fmt == "xlsx":
        return _xlsx(headers, rows, sheet=sheet)
    raise ValueError(f"Unknown export format {fmt!r}.")


def export_resource(resource: Any, queryset: Any, fmt: str, *, sheet: str) -> Iterator[bytes]:
    """write_spreadsheet for a django-import-export resource: its headers, one row per
    object (the resource's own chunked iteration over the queryset)."""
    rows = (resource.export_resource(obj) for obj in resource.iter_queryset(queryset))
    return write_spreadsheet(fmt, resource.get_export_headers(), rows, sheet=sheet)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    yield "\ufeff".encode()
    writer = csv.writer(_Echo())
    buffer: list[str] = [writer.writerow([safe_cell(v) for v in headers])]
    for row in rows:
        buffer.append(writer.writerow([safe_cell(v) for v in row]))
        if len(buffer) >= 500:
            yield "".join(buffer).encode()
            buffer = []
    if buffer:
        yield "".join(buffer).encode()


def _xlsx_cell(value: Any) -> Any:
    """safe_cell, and XLSX cannot hold most control characters (openpyxl refuses the whole
    file for one)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    value = safe_cell(value)
    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value) if isinstance(value, str) else value


def _xlsx(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, sheet: str) -> Iterator[bytes]:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet)
    worksheet.append([_xlsx_cell(v) for v in headers])
    for row in rows:
        worksheet.append([_xlsx_cell(v) for v in row])
    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as spool:
        workbook.save(spool)
        spool.seek(0)
        while chunk := spool.read(64 * 1024):
            yield chunk
