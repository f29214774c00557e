"""Keyset ("seek") pagination: every page costs the same, page 1 or page 2,000.

Office lists never COUNT(*) the table nor walk an OFFSET. A cursor names the last row
seen (its sort value and id); the next page starts strictly after it, through the
same index the ORDER BY uses.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

from django.core.exceptions import ValidationError
from django.db.models import Field, Model, Q, QuerySet

M = TypeVar("M", bound=Model)


@dataclass
class KeysetPage(Generic[M]):
    rows: list[M]
    next_cursor: str | None
    prev_cursor: str | None
    sort: str

    @property
    def has_other_pages(self) -> bool:
        return bool(self.next_cursor or self.prev_cursor)


def _encode(sort: str, direction: str, value: Any, pk: int) -> str:
    if isinstance(value, date):  # and datetime: ISO text, to the microsecond
        value = value.isoformat()
    raw = json.dumps([sort, direction, value, pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, sort: str) -> tuple[str, Any, int] | None:
    """(direction, value, pk), or None for a cursor that is malformed or from another sort."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        c_sort, direction, value, pk = json.loads(raw)
    except (ValueError, binascii.Error, TypeError):
        return None
    if c_sort != sort or direction not in ("next", "prev") or not isinstance(pk, int):
        return None
    # A NULL sort value cannot be compared with >= (the ORM refuses it with a 500), and the
    # sort keys offered (working name, membership number) are never NULL in the register.
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return direction, value, pk


def _after(field: str, value: Any, pk: int, ascending: bool) -> Q:
    # (field, id) > (value, pk), written so that PostgreSQL starts the index scan at value.
    if ascending:
        return Q(**{f"{field}__gte": value}) & (Q(**{f"{field}__gt": value}) | Q(id__gt=pk))
    return Q(**{f"{field}__lte": value}) & (Q(**{f"{field}__lt": value}) | Q(id__lt=pk))


def paginate(
    qs: QuerySet[M], *, sort: str, allowed: dict[str, str], cursor: str | None, size: int
) -> KeysetPage[M]:
    """Return one page of qs ordered by allowed[sort] (a field name, "-" prefix for descending).

    `sort` must be a key of `allowed` (the names shown in URLs); anything else falls back
    to the first one.
    """
    if sort not in allowed:
        sort = next(iter(allowed))
    spec = allowed[sort]
    field = spec.lstrip("-")
    ascending = not spec.startswith("-")
    decoded = _decode(cursor, sort) if cursor else None
    if decoded is not None:
        # The value comes from the URL: it must make sense for the field (a date for a date),
        # or the query would fail. A cursor that does not is ignored like any other bad one.
        model_field = qs.model._meta.get_field(field)
        try:
            if not isinstance(model_field, Field):  # sort keys are concrete fields
                raise TypeError(field)
            value = model_field.to_python(decoded[1])
        except (ValidationError, TypeError, ValueError):
            decoded = None
        else:
            decoded = (decoded[0], value, decoded[2])
    backwards = decoded is not None and decoded[0] == "prev"
    forward_order = [field, "id"] if ascending else [f"-{field}", "-id"]
    order = forward_order
    if decoded is not None:
        _direction, value, pk = decoded
        qs = qs.filter(_after(field, value, pk, ascending != backwards))
        if backwards:
            order = [f"-{field}", "-id"] if ascending else [field, "id"]
    rows = list(qs.order_by(*order)[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    has_next = more if not backwards else True
    has_prev = (decoded is not None) if not backwards else more
    next_cursor = (
        _encode(sort, "next", getattr(rows[-1], field), rows[-1].pk) if has_next and rows else None
    )
    prev_cursor = (
        _encode(sort, "prev", getattr(rows[0], field), rows[0].pk) if has_prev and rows else None
    )
    return KeysetPage(rows=rows, next_cursor=next_cursor, prev_cursor=prev_cursor, sort=sort)
