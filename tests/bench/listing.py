"""The member list (the real view, through Django's test Client) against hand-written SQL.

For each officer and page (page 1, and a page 90% of the way through the register, reached
with a cursor built the way the view builds them) it reports: the view's whole time (the
request as the browser sees it, middleware and template included), its number of queries,
the time of the page query the view ran, and the time of a hand-written keyset query that
returns the same rows.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import sign_in
from union.models import Member
from union.pagination import _encode

PAGE_SIZE_PLUS_ONE = 51
REGISTER_FILTER = "m.status NOT IN ('applicant', 'rejected')"


@dataclass
class ListingResult:
    who: str
    page: str
    view_ms: float
    queries: int
    view_sql_ms: float
    hand_sql_ms: float
    rows: int
    query_texts: list[str]

    @property
    def sql_ratio(self) -> float:
        return self.view_sql_ms / self.hand_sql_ms if self.hand_sql_ms else float("nan")

    @property
    def view_ratio(self) -> float:
        return self.view_ms / self.hand_sql_ms if self.hand_sql_ms else float("nan")


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _hand_sql(branch_id: int | None, after: tuple[str, int] | None) -> tuple[str, list[object]]:
    where = [REGISTER_FILTER]
    params: list[object] = []
    if branch_id is not None:
        where.append("m.branch_id = %s")
        params.append(branch_id)
    if after is not None:
        where.append("(m.working_name, m.id) > (%s, %s)")
        params.extend(after)
    sql = (
        "SELECT m.id, m.public_id, m.number, m.working_name, m.status, b.code "  # noqa: S608
        "FROM union_member m JOIN union_branch b ON b.id = m.branch_id "
        f"WHERE {' AND '.join(where)} ORDER BY m.working_name, m.id LIMIT %s"
    )
    return sql, [*params, PAGE_SIZE_PLUS_ONE]


def _time_sql(sql: str, params: list[object] | None, repeat: int) -> tuple[float, int]:
    samples = []
    rows = 0
    with connection.cursor() as cursor:
        for _ in range(repeat):
            start = time.perf_counter()
            cursor.execute(sql, params)
            rows = len(cursor.fetchall())
            samples.append(time.perf_counter() - start)
    return _median_ms(samples), rows


def _deep_position(branch_id: int | None) -> tuple[str, int]:
    """The (working_name, id) of the row 90% of the way through this officer's register."""
    qs = Member.objects.exclude(status__in=["applicant", "rejected"])
    if branch_id is not None:
        qs = qs.filter(branch_id=branch_id)
    total = qs.count()
    row = qs.order_by("working_name", "id").values_list("working_name", "id")[int(total * 0.9)]
    return row[0], row[1]


def measure(
    *, who: str, officer: Member, branch_id: int | None, repeat: int
) -> list[ListingResult]:
    client = sign_in(Client(), officer)
    url = reverse("union:members")
    results = []
    deep = _deep_position(branch_id)
    for page, after in (("page 1", None), ("deep page (90%)", deep)):
        query = {} if after is None else {"cursor": _encode("working_name", "next", *after)}
        for _ in range(3):  # warm up caches, templates, connections
            assert client.get(url, query).status_code == 200
        samples = []
        for _ in range(repeat):
            start = time.perf_counter()
            response = client.get(url, query)
            samples.append(time.perf_counter() - start)
            if response.status_code != 200:
                raise SystemExit(f"member list answered {response.status_code}")
        with CaptureQueriesContext(connection) as captured:
            client.get(url, query)
        page_queries = [
            q["sql"]
            for q in captured.captured_queries
            if "ORDER BY" in q["sql"] and '"union_member"' in q["sql"] and "LIMIT" in q["sql"]
        ]
        view_sql_ms = _time_sql(page_queries[-1], None, repeat)[0] if page_queries else float("nan")
        hand_sql, params = _hand_sql(branch_id, after)
        hand_ms, rows = _time_sql(hand_sql, params, repeat)
        results.append(
            ListingResult(
                who=who,
                page=page,
                view_ms=_median_ms(samples),
                queries=len(captured.captured_queries),
                view_sql_ms=view_sql_ms,
                hand_sql_ms=hand_ms,
                rows=rows,
                query_texts=[q["sql"] for q in captured.captured_queries],
            )
        )
    return results
