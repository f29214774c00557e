"""The public site under a real server: its pages against a hello-world in the same run.

    tests/with_services.sh .venv/bin/python -m tests.bench.cms        # on its own
    (or as the "cms" section of `make bench`, once wired in tests/bench/__main__.py)

In a fresh test database: the demo public site (English and French, every page type) and
enough members for the live figures to show. Two gunicorn servers on 127.0.0.1 (gthread
workers), the one with the page cache as deployed, the other with CMS_CACHE_SECONDS=0 so
that every page is built; the same keep-alive clients load a hello-world GET (the same
middleware, no page) and then each page. The cache is Redis when TEST_REDIS_URL is set
(as in production), else the embedded default's file cache.

Targets: cached pages at least 0.5x the hello-world's requests per second, uncached at
least 0.1x, at most 15 queries per page (counted in-process, uncached). Timings depend on
the machine: they are printed beside the targets, never turned into a failure.
"""

from __future__ import annotations

import http.client
import itertools
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
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
    queries: int | None = None
    size: int = 0


def _database_url(conn_max_age: int | None = None) -> str:
    from django.db import connection

    s = connection.settings_dict
    auth = quote(s.get("USER") or "", safe="")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"], safe="")
    host = s.get("HOST") or ""
    port = f":{s['PORT']}" if s.get("PORT") else ""
    query = f"?conn_max_age={conn_max_age}" if conn_max_age is not None else ""
    return f"postgres://{auth}@{host}{port}/{quote(s['NAME'], safe='')}{query}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@contextmanager
def _gunicorn(*, env: dict[str, str], workers: int, threads: int, tmp: Path) -> Iterator[int]:
    port = _free_port()
    log = tmp / f"gunicorn-{port}.log"
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "union.wsgi:application",
        f"--bind={HOST}:{port}",
        f"--workers={workers}",
        f"--threads={threads}",
        "--worker-class=gthread",
        "--keep-alive=30",
        "--timeout=60",
        "--log-level=warning",
        "--error-logfile=-",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{log.read_text()[-3000:]}")
            try:
                conn = http.client.HTTPConnection(HOST, port, timeout=5)
                conn.request("GET", HELLO)
                if conn.getresponse().status == 200:
                    conn.close()
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn not ready:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _load(port: int, path: str, *, requests: int, clients: int, label: str) -> Result:
    """GET `path` `requests` times from `clients` keep-alive connections at once."""
    counter = itertools.count()
    latencies: list[float] = []
    errors = 0
    size = 0
    lock = threading.Lock()

    def client() -> None:
        nonlocal errors, size
        conn = http.client.HTTPConnection(HOST, port, timeout=60)
        mine: list[float] = []
        bad = 0
        try:
            while next(counter) < requests:
                started = time.perf_counter()
                try:
                    conn.request("GET", path, headers={"Accept-Language": "fr,en;q=0.5"})
                    response = conn.getresponse()
                    body = response.read()
                    if response.status != 200:
                        bad += 1
                    else:
                        size = len(body)
                except (OSError, http.client.HTTPException):
                    bad += 1
                    conn.close()
                mine.append((time.perf_counter() - started) * 1000)
        finally:
            conn.close()
            with lock:
                latencies.extend(mine)
                errors += bad

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    seconds = time.perf_counter() - started
    ordered = sorted(latencies) or [0.0]
    return Result(
        label=label,
        path=path,
        per_second=len(latencies) / seconds if seconds else 0.0,
        p50_ms=statistics.median(ordered),
        p95_ms=ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))],
        errors=errors,
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


def _count_queries(pages: list[tuple[str, str]]) -> dict[str, int]:
    """Queries of an uncached page (after a first view, which makes the image renditions)."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    saved = settings.CMS_CACHE_SECONDS
    settings.CMS_CACHE_SECONDS = 0
    counts = {}
    try:
        client = Client(HTTP_ACCEPT_LANGUAGE="fr,en;q=0.5")
        for _label, path in pages:
            client.get(path)
            with CaptureQueriesContext(connection) as queries:
                client.get(path)
            counts[path] = len(queries)
    finally:
        settings.CMS_CACHE_SECONDS = saved
    return counts


def run(*, requests: int = 600, clients: int = 8, workers: int = 2, threads: int = 4) -> list[str]:
    """Seed, serve, measure; returns the report's lines."""
    from django.db import connection

    pages = _seed()
    queries = _count_queries(pages)
    connection.close()  # the servers need the database; this process is done writing

    cache_url = os.environ.get("TEST_REDIS_URL", "")
    lines = [
        f"== Public site under gunicorn ({workers} gthread workers x {threads} threads, "
        f"{clients} keep-alive clients, {requests} requests per page; CPUs: {os.cpu_count()}) ==",
    ]
    with tempfile.TemporaryDirectory(prefix="solidaire-bench-cms-") as name:
        tmp = Path(name)
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.bench.cms_server",
            "DATABASE_URL": _database_url(),
            "SECURE_HTTPS": "false",
            "ALLOWED_HOSTS": HOST,
            "STATIC_ROOT": str(tmp / "static"),
            "SOLIDAIRE_VAR_DIR": str(tmp / "var"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        env.pop("SOLIDAIRE_PLAIN_STATIC", None)
        if cache_url:
            env["CACHE_URL"] = cache_url.rsplit("/", 1)[0] + "/3"
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity=0"],
            cwd=REPO,
            env=env,
            check=True,
            timeout=600,
        )
        lines.append(
            f"   cache: {'Redis (CACHE_URL)' if cache_url else 'file cache (embedded default)'}"
        )
        results: dict[str, list[Result]] = {}
        for mode, seconds, conn_max_age, _target in MODES:
            server_env = {
                **env,
                "CMS_CACHE_SECONDS": seconds,
                "DATABASE_URL": _database_url(conn_max_age),
            }
            with _gunicorn(env=server_env, workers=workers, threads=threads, tmp=tmp) as port:
                # Warm up: workers started, renditions made, cache filled.
                for _label, path in pages:
                    _load(port, path, requests=2 * clients, clients=clients, label="warm-up")
                _load(port, HELLO, requests=2 * clients, clients=clients, label="warm-up")
                hello = _load(port, HELLO, requests=requests, clients=clients, label="hello")
                measured = [
                    _load(port, path, requests=requests, clients=clients, label=label)
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
            f"{'KB':>6}{'queries':>9}{'errors':>8}"
        )
        worst = min(r.per_second for r in measured) / hello.per_second
        for r in measured:
            ratio = r.per_second / hello.per_second
            lines.append(
                f"   {r.label:<34}{r.per_second:8,.0f}{ratio:7.2f}x{r.p50_ms:8.1f}{r.p95_ms:8.1f}"
                f"{r.size / 1024:6.1f}{queries.get(r.path, 0):9d}{r.errors:8d}"
            )
        if target:
            verdict = "meets" if worst >= target else "BELOW"
            lines.append(f"   worst ratio {worst:.2f}x (target >= {target}x: {verdict})")
        else:
            lines.append(f"   worst ratio {worst:.2f}x")
    most = max(queries.values())
    verdict = "meets" if most <= MAX_QUERIES else "ABOVE"
    lines.append(f"\n   most queries on a page: {most} (target <= {MAX_QUERIES}: {verdict})")
    return lines


def main() -> int:
    """Stand-alone: a fresh test database of its own, then run()."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "union.settings")
    os.environ.setdefault("SOLIDAIRE_PLAIN_STATIC", "1")
    if "DATABASE_URL" not in os.environ:
        print("The benchmark needs PostgreSQL: run it with tests/with_services.sh.")
        return 2
    import logging

    import django

    django.setup()
    logging.disable(logging.INFO)
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    setup_test_environment()
    old_name = connection.settings_dict["NAME"]
    connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False, serialize=False)
    try:
        print("\n".join(run()), flush=True)
    finally:
        connection.close()
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=False)
        teardown_test_environment()
    return 0


if __name__ == "__main__":
    sys.exit(main())
