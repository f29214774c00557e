"""Turn an uploaded register (CSV or XLSX) into a header and rows of stripped text.

Nothing here touches the database. Every refusal is an ImportFileError with a message
an officer can act on; none of them quotes the file's content (it is personal data and
error messages end up in logs).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from union.exports import unneutralise_formula
from union.resources import column_for_header

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls (and .doc) container
# Control characters never found in a real register: a sign of a binary file read as text.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
DEFAULT_MAX_ROWS = 200_000
# An XLSX is a zip: refuse one that would inflate to more than this (a "zip bomb").
XLSX_MAX_INFLATE_RATIO = 40


class ImportFileError(ValidationError):
    """The file as a whole cannot be read; nothing in it is imported."""


@dataclass(frozen=True)
class Sheet:
    """The header row, which register column each position maps to, and the data rows.

    rows holds (line number in the file, cells); cells are stripped strings, one per header.
    """

    headers: list[str]
    columns: list[str | None]
    rows: list[tuple[int, list[str]]]
    format: str

    @property
    def mapped(self) -> set[str]:
        return {c for c in self.columns if c}

    @property
    def ignored_headers(self) -> list[str]:
        return [h for h, c in zip(self.headers, self.columns, strict=True) if c is None and h]


def max_rows() -> int:
    return int(getattr(settings, "IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS))


def read_sheet(data: bytes, filename: str) -> Sheet:
    """Read a register upload. Raises ImportFileError for anything we cannot read safely."""
    if len(data) > settings.IMPORT_MAX_BYTES:
        raise ImportFileError(too_big_message())
    if not data.strip():
        raise ImportFileError(_("The file is empty."))
    name = (filename or "").lower()
    if data.startswith(XLSX_MAGIC) or name.endswith(".xlsx"):
        return _to_sheet(_xlsx_rows(data), "xlsx")
    if data.startswith(OLE_MAGIC) or name.endswith((".xls", ".ods", ".numbers")):
        raise ImportFileError(
            _("This spreadsheet format is not supported. Save it as XLSX or as CSV and try again.")
        )
    if not name.endswith((".csv", ".txt", ".tsv")):
        raise ImportFileError(_("Upload a CSV or an XLSX file."))
    return _to_sheet(_csv_rows(data), "csv")


def too_big_message() -> str:
    return _("The file is too large. The limit is %(mb)s MB: split the register into parts.") % {
        "mb": f"{settings.IMPORT_MAX_BYTES / (1024 * 1024):.0f}"
    }


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without a BOM), else Windows-1252/Latin-1, else a clear refusal."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in data:
        raise ImportFileError(
            _(
                "This file is not in a text encoding we can read (UTF-16 or binary). "
                "Save it as “CSV UTF-8” and try again."
            )
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            # Spreadsheets on Windows write "Latin-1" as Windows-1252 (curly quotes, œ, €).
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
    # Old DOS tools end text files with Ctrl-Z.
    text = text.rstrip("\x1a")
    if _CONTROL.search(text):
        raise ImportFileError(
            _(
                "This file does not look like a CSV text file, or its encoding is not "
                "UTF-8 or Latin-1. Save it as “CSV UTF-8” and try again."
            )
        )
    return text


def _sniff_delimiter(text: str) -> str:
    """French spreadsheets write CSV with semicolons; pick what the header line uses most."""
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_rows(data: bytes) -> Iterator[list[Any]]:
    text = decode_text(data)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    try:
        yield from reader
    except csv.Error as exc:
        raise ImportFileError(
            _("This CSV file is malformed near line %(line)s.") % {"line": reader.line_num}
        ) from exc


def _xlsx_rows(data: bytes) -> Iterator[list[Any]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            inflated = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise _bad_xlsx() from exc
    if "xl/workbook.xml" not in names:
        raise _bad_xlsx()
    if inflated > XLSX_MAX_INFLATE_RATIO * settings.IMPORT_MAX_BYTES:
        raise ImportFileError(_("This spreadsheet is too large once unpacked."))

    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds of error on a damaged file
        raise _bad_xlsx() from exc
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            raise _bad_xlsx()
        yield from sheet.iter_rows(values_only=True)
    except ImportFileError:
        raise
    except Exception as exc:  # a damaged sheet fails while it is read, not when opened
        raise _bad_xlsx() from exc
    finally:
        workbook.close()


def _bad_xlsx() -> ImportFileError:
    return ImportFileError(
        _(
            "This XLSX file is damaged or is not really a spreadsheet. Open it, save it again, "
            "and try again."
        )
    )


def cell_text(value: Any) -> str:
    """A cell as stripped text: XLSX numbers without '.0', dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = value.strip()
    elif isinstance(value, bool):
        text = "1" if value else "0"
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, datetime):
        text = value.date().isoformat()
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = str(value).strip()
    return unneutralise_formula(text) if text[:1] == "'" else text


def _to_sheet(raw_rows: Iterable[list[Any]], fmt: str) -> Sheet:
    limit = max_rows()
    headers: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    width = 0
    text_only = fmt == "csv"
    for line, raw in enumerate(raw_rows, start=1):
        if text_only:
            # CSV cells are already text: strip them, and undo formula neutralising only
            # where a cell starts with a quote (the slow general path is for XLSX values).
            cells = [c.strip() for c in raw]
            for i, c in enumerate(cells):
                if c[:1] == "'":
                    cells[i] = unneutralise_formula(c)
        else:
            cells = [cell_text(v) for v in raw]
        if not any(cells):
            continue
        if headers is None:
            headers = cells
            width = len(headers)
            continue
        if len(rows) >= limit:
            raise ImportFileError(
                _("The file has more than %(limit)s rows. Split it into parts.") % {"limit": limit}
            )
        if len(cells) < width:
            cells.extend([""] * (width - len(cells)))
        elif len(cells) > width:
            # Extra cells beyond the last header have no column to go to.
            cells = cells[:width]
        rows.append((line, cells))
    if headers is None:
        raise ImportFileError(_("The file is empty."))
    columns: list[str | None] = []
    seen: set[str] = set()
    for header in headers:
        column = column_for_header(header)
        if column is not None and column in seen:
            raise ImportFileError(
                _("Two columns of the file are both “%(column)s”. Keep only one.")
                % {"column": column}
            )
        if column is not None:
            seen.add(column)
        columns.append(column)
    if "working_name" not in seen:
        raise ImportFileError(
            _(
                "The file has no working name column. The first row must hold the column "
                "names, for example: number, working_name, branch, status."
            )
        )
    return Sheet(headers=headers, columns=columns, rows=rows, format=fmt)
