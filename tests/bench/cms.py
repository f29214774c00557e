"""The public site under a real server: its pages against a hello-world in the same run.

    tests/with_services.sh .venv/bin/python -m tests.bench.cms        # on its own
    make bench                                                         # its "cms" section

In a fresh test database: the demo public site (English and French, every page type) and
enough members for the live figures to show. gunicorn on 127.0.0.1 (tests/bench/server.py)
three times: with the page cache as deployed; with CMS_CACHE_SECONDS=0, so that every page
is built; and the same opening a database connection per request, for comparison. In each,
the same keep-alive clients load a hello-world GET (the same middleware, no page) and then
each page. The cache is Redis when TEST_REDIS_URL is set (as in production), else the
embedded default's file cache.

Targets: cached pages at least 0.5x the hello-world's requests per second, uncached at
least 0.1x, at most 15 queries per page (counted in-process, uncached). Timings depend on
the machine: they are printed beside the targets, never turned into a failure.
"""

from __future__ import annotations

import http.client
import os
import statistics
import sys
import time
from dataclasses import dataclass
from typing import Any

HELLO = "/bench/hello-get/"
TARGET_CACHED = 0.5
TARGET_UNCACHED = 0.1
MAX_QUERIES = 15
# (name, CMS_CACHE_SECONDS, conn_max_age in DATABASE_URL or None for the deployed default,
# which keeps each thread's connection for 60 seconds, target or None for "for comparison").
MODES: tuple[tuple[str, str, int | None, float | None], ...] = (
    ("cached", "600", None, TARGET_CACHED),
    ("uncached", "0", None, TARGET_UNCACHED),
    ("uncached, a new DB connection per request (conn_max_age=0)", "0", 0, None),
)


@dataclass(frozen=True)
class Result:
    label: str
    path: str
    per_second: float
    p50_ms: float
    p95_ms: float
    errors: int
    size: int = 0


def _classify(status: int, body: bytes) -> str:
    return "ok" if status == 200 else f"HTTP {status}"


def _load(srv: Any, path: str, *, requests: int, clients: int, label: str) -> Result:
    """GET `path` `requests` times from `clients` keep-alive connections at once."""
    from tests.bench import server as bench_server

    headers = {"Accept-Language": "fr,en;q=0.5", "Host": f"{bench_server.HOST}:{srv.port}"}
    get = bench_server.Request(path, b"", headers, method="GET")
    run = bench_server.drive(srv, [get] * requests, clients=clients, classify=_classify)
    conn = http.client.HTTPConnection(bench_server.HOST, srv.port, timeout=60)
    try:
        conn.request("GET", path, headers=headers)
        size = len(conn.getresponse().read())
    finally:
        conn.close()
    return Result(
        label=label,
        path=path,
        per_second=run.per_second,
        p50_ms=run.percentile(50),
        p95_ms=run.percentile(95),
        errors=run.requests - run.outcomes["ok"],
        size=size,
    )


def _seed() -> list[tuple[str, str]]:
    """The demo site and 120 members (so that the live figures show). Returns the pages."""
    import io

    from django.core.management import call_command

    from cms.models import (
        CampaignPage,
        EventPage,
        GuidePage,
        HomePage,
        NewsPage,
        PublicationPage,
        SectionPage,
    )
    from tests.factories import BranchFactory, MemberFactory

    national = BranchFactory(code="NAT", name="Coordination nationale", is_national=True)
    for code in ("BKO", "SEG"):
        MemberFactory.create_batch(60, branch=BranchFactory(code=code, parent=national))
    call_command("load_demo_cms", stdout=io.StringIO())

    def url(model: Any, language: str = "en", **lookup: Any) -> str:
        return model.objects.get(locale__language_code=language, **lookup).url

    return [
        ("root (language from the browser)", "/"),
        ("home, English", url(HomePage, depth=2)),
        ("home, French", url(HomePage, "fr", depth=2)),
        ("section: campaigns", url(SectionPage, slug="campaigns")),
        ("section: news, French", url(SectionPage, "fr", slug="actualites")),
        ("campaign", url(CampaignPage)),
        ("statement, French", url(NewsPage, "fr")),
        ("publication", url(PublicationPage)),
        ("know-your-rights guide", url(GuidePage)),
        ("event", url(EventPage, slug="march-3-march")),
    ]


COLD_BUILDS = 7


def _count_queries(pages: list[tuple[str, str]]) -> dict[str, tuple[int, int, float]]:
    """Queries of an uncached page, (cold, warm, cold ms): built just after a publish, when
    every list, menu and route is worked out again; then built again from what that
    remembered; and the median time of a cold build in this process. (After a first view,
    which makes the image renditions.) The hello-world's time is under HELLO."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    from cms import cache as page_cache

    saved = settings.CMS_CACHE_SECONDS
    settings.CMS_CACHE_SECONDS = 0
    client = Client(HTTP_ACCEPT_LANGUAGE="fr,en;q=0.5")

    def cold_ms(path: str) -> float:
        timings = []
        for _ in range(COLD_BUILDS):
            page_cache.purge()  # as a publish does
            page_cache.forget_local()
            started = time.perf_counter()
            client.get(path)
            timings.append((time.perf_counter() - started) * 1000)
        return statistics.median(timings)

    counts = {}
    try:
        with override_settings(ROOT_URLCONF="tests.bench.server_urls"):  # for the hello-world
            for _label, path in [*pages, ("hello", HELLO)]:
                client.get(path)
                page_cache.purge()
                page_cache.forget_local()
                with CaptureQueriesContext(connection) as cold:
                    client.get(path)
                with CaptureQueriesContext(connection) as warm:
                    client.get(path)
                counts[path] = (len(cold), len(warm), cold_ms(path))
    finally:
        settings.CMS_CACHE_SECONDS = saved
    return counts


def run(*, requests: int = 600, clients: int = 8, workers: int = 2, threads: int = 4) -> list[str]:
    """Seed, serve, measure; returns the report's lines."""
    from django.db import connection

    pages = _seed()
    queries = _count_queries(pages)
    connection.close()  # the servers need the database; this process is done writing

    from tests.bench import server as bench_server

    cache_url = bench_server.redis_cache_url()
    lines = [
        f"== Public site under gunicorn ({workers} gthread workers x {threads} threads, "
        f"{clients} keep-alive clients, {requests} requests per page; CPUs: {os.cpu_count()}) ==",
        f"   cache: {'Redis (CACHE_URL)' if cache_url else 'file cache (embedded default)'}",
    ]
    results: dict[str, list[Result]] = {}
    for mode, seconds, conn_max_age, _target in MODES:
        with bench_server.gunicorn(
            workers=workers,
            threads=threads,
            conn_max_age=conn_max_age,
            cache_url=cache_url,
            env={"CMS_CACHE_SECONDS": seconds},
        ) as srv:
            # Warm up: workers started, renditions made, cache filled.
            for _label, path in [*pages, ("hello", HELLO)]:
                _load(srv, path, requests=2 * clients, clients=clients, label="warm-up")
            hello = _load(srv, HELLO, requests=requests, clients=clients, label="hello")
            measured = [
                _load(srv, path, requests=requests, clients=clients, label=label)
                for label, path in pages
            ]
            results[mode] = [hello, *measured]

    for mode, _seconds, _conn_max_age, target in MODES:
        hello, *measured = results[mode]
        lines.append("")
        lines.append(
            f"-- {mode}: hello-world GET {hello.per_second:,.0f} req/s "
            f"(p50 {hello.p50_ms:.1f} ms), "
            + (f"target >= {target}x for every page" if target else "for comparison, no target")
        )
        lines.append(
            f"   {'page':<34}{'req/s':>8}{'ratio':>8}{'p50 ms':>8}{'p95 ms':>8}"
            f"{'KB':>6}{'queries cold/warm':>19}{'errors':>8}"
        )
        worst = min(r.per_second for r in measured) / hello.per_second
        for r in measured:
            ratio = r.per_second / hello.per_second
            lines.append(
                f"   {r.label:<34}{r.per_second:8,.0f}{ratio:7.2f}x{r.p50_ms:8.1f}{r.p95_ms:8.1f}"
                f"{r.size / 1024:6.1f}{'{} / {}'.format(*queries[r.path][:2]):>19}{r.errors:8d}"
            )
        if target:
            verdict = "meets" if worst >= target else "BELOW"
            lines.append(f"   worst ratio {worst:.2f}x (target >= {target}x: {verdict})")
        else:
            lines.append(f"   worst ratio {worst:.2f}x")
    hello_ms = queries.pop(HELLO)[2]
    cold_times = sorted(ms for _cold, _warm, ms in queries.values())
    lines.append(
        f"\n   built cold just after a publish, in-process (median of {COLD_BUILDS}): "
        f"{cold_times[0]:.1f}-{cold_times[-1]:.1f} ms a page, hello-world {hello_ms:.2f} ms"
    )
    most = max(cold for cold, _warm, _ms in queries.values())
    verdict = "meets" if most <= MAX_QUERIES else "ABOVE"
    lines.append(
        f"   most queries on a page, built cold after a publish: {most} "
        f"(target <= {MAX_QUERIES}: {verdict})"
    )
    return lines


def main() -> int:
    """Stand-alone: a fresh test database of its own, then run()."""
    from tests.bench.standalone import fresh_test_database

    with fresh_test_database():
        print("\n".join(run()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
