"""A real server for benchmarks, and clients that load it over loopback HTTP.

- gunicorn(...) starts gunicorn on 127.0.0.1 (a free port) against the database the
  benchmark is using (its own test database), with tests.bench.server_settings: the
  project's settings plus a hello-world POST at /bench/hello/ and GET at
  /bench/hello-get/. It is stopped (TERM, then KILL after a grace period) when the `with`
  block ends, whatever happens inside.
- drive(...) sends a fixed list of requests from N concurrent clients (threads, one
  keep-alive connection each) and returns what came back and how long it took. Bounded:
  it stops at the end of the list or at its deadline, whichever comes first.
"""

from __future__ import annotations

import http.client
import itertools
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

from django.core.cache.backends.base import BaseCache
from django.db import connection
from django.utils.module_loading import import_string

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"  # loopback only


@dataclass(frozen=True)
class Server:
    port: int
    workers: int
    threads: int
    description: str
    log: Path

    @property
    def origin(self) -> str:
        return f"http://{HOST}:{self.port}"

    def connection(self, timeout: float = 60) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(HOST, self.port, timeout=timeout)

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the server's log (errors and tracebacks), while the server runs."""
        return self.log.read_text(errors="replace")[-chars:]


def database_url(conn_max_age: int | None = None) -> str:
    """The URL of the database this process is connected to (the bench's test database).
    conn_max_age None leaves the deployed default (connections kept 60 s)."""
    s = connection.settings_dict
    if connection.vendor != "postgresql":
        raise RuntimeError("the server benchmark needs PostgreSQL")
    user = quote(s.get("USER") or "", safe="")
    password = quote(s.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = s.get("HOST") or ""
    port = f":{s['PORT']}" if s.get("PORT") else ""
    query = f"?conn_max_age={conn_max_age}" if conn_max_age is not None else ""
    return f"postgres://{auth}{host}{port}/{quote(s['NAME'], safe='')}{query}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _wait_ready(proc: subprocess.Popen[bytes], port: int, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", "/health/")
            if conn.getresponse().status < 500:
                conn.close()
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn not ready after {timeout:.0f} s:\n{log.read_text()[-3000:]}")


@contextmanager
def gunicorn(
    *,
    workers: int = 3,
    threads: int = 4,
    conn_max_age: int | None = None,
    cache_url: str | None = None,
    env: dict[str, str] | None = None,
    ready_timeout: float = 60,
) -> Iterator[Server]:
    """gunicorn (gthread workers) on a free loopback port, stopped on exit.

    cache_url: the server's CACHE_URL (sessions are cached_db); unset, the settings'
    default (a file cache in SOLIDAIRE_VAR_DIR). env: more settings for the server.
    """
    port = _free_port()
    server_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.bench.server_settings",
        "DATABASE_URL": database_url(conn_max_age),
        "SECURE_HTTPS": "false",
        "ALLOWED_HOSTS": HOST,
        "PYTHONDONTWRITEBYTECODE": "1",
        **(env or {}),
    }
    server_env.pop("SOLIDAIRE_PLAIN_STATIC", None)  # served as deployed: hashed, compressed
    if cache_url:
        server_env["CACHE_URL"] = cache_url
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
        "--graceful-timeout=10",
        "--no-control-socket",
        "--log-level=warning",
        "--error-logfile=-",
    ]
    with tempfile.TemporaryDirectory(prefix="solidaire-bench-") as tmp:
        # Static files collected as a deployment does (hashed names, the manifest), into
        # a directory of this run's own: the shared staticfiles/ may be stale or in use.
        server_env["STATIC_ROOT"] = str(Path(tmp) / "static")
        server_env["SOLIDAIRE_VAR_DIR"] = str(Path(tmp) / "var")
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity=0"],
            cwd=REPO,
            env=server_env,
            check=True,
            timeout=600,
        )
        log = Path(tmp) / "gunicorn.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                command, cwd=REPO, env=server_env, stdout=out, stderr=subprocess.STDOUT
            )
        try:
            _wait_ready(proc, port, log, ready_timeout)
            yield Server(
                port=port,
                workers=workers,
                threads=threads,
                description=(
                    f"gunicorn, {workers} gthread workers x {threads} threads, "
                    f"CONN_MAX_AGE={'60 (default)' if conn_max_age is None else conn_max_age}, "
                    "cache "
                    f"{cache_url.split('://')[0] if cache_url else 'default (file)'}"
                ),
                log=log,
            )
        finally:
            if proc.poll() is None:
                proc.terminate()  # graceful: the master stops its workers
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)


@dataclass(frozen=True)
class Request:
    path: str
    body: bytes
    headers: dict[str, str]
    key: int = 0  # the caller's tag (a member), passed back with the outcome
    method: str = "POST"


@dataclass
class Run:
    seconds: float
    outcomes: Counter[str]
    latencies_ms: list[float]
    tagged: list[tuple[int, str, bytes]] = field(default_factory=list)  # (key, outcome, body)
    client_cpu_s: float = 0.0

    @property
    def requests(self) -> int:
        return sum(self.outcomes.values())

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @classmethod
    def combine(cls, runs: list[Run]) -> Run:
        """Several runs as one: their times, outcomes and latencies added up."""
        outcomes: Counter[str] = Counter()
        for run in runs:
            outcomes.update(run.outcomes)
        return cls(
            seconds=sum(r.seconds for r in runs),
            outcomes=outcomes,
            latencies_ms=[ms for r in runs for ms in r.latencies_ms],
            tagged=[t for r in runs for t in r.tagged],
            client_cpu_s=sum(r.client_cpu_s for r in runs),
        )

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


class Target(Protocol):
    """Where drive() sends requests: a bench Server, or the stage's nginx (TLS)."""

    def connection(self, timeout: float = 60) -> http.client.HTTPConnection: ...


def drive(
    server: Target,
    requests: list[Request],
    *,
    clients: int,
    classify: Callable[[int, bytes], str],
    keep: Callable[[str], bool] = lambda outcome: False,
    deadline_s: float = 1800,
    rate: float | None = None,
) -> Run:
    """Send every request once, `clients` at a time, in list order.

    Clients take the next request from the shared list as soon as they are free, so two
    requests next to each other in the list go out at about the same moment from two
    different clients. classify(status, body) names each outcome; bodies whose outcome
    keep() accepts are returned (tagged with the request's key).

    rate (requests/s): arrivals at a steady pace instead, as a payment processor's
    deliveries come, whatever the server does: request i is due i / rate seconds after
    the start, and its latency counts from that moment (a request that had to wait for
    a free client waited for the server too), so the figure is not flattered when the
    server falls behind.
    """
    next_index = itertools.count()  # next() on a count is atomic under the GIL
    outcomes: Counter[str] = Counter()
    latencies: list[float] = []
    tagged: list[tuple[int, str, bytes]] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + deadline_s

    def client() -> None:
        conn = server.connection(timeout=60)
        mine: Counter[str] = Counter()
        my_latencies: list[float] = []
        my_tagged: list[tuple[int, str, bytes]] = []
        try:
            while time.monotonic() < stop_at:
                i = next(next_index)
                if i >= len(requests):
                    break
                request = requests[i]
                started = time.perf_counter()
                if rate:
                    due = begun + i / rate
                    if due > started:
                        time.sleep(due - started)
                    started = due
                try:
                    conn.request(
                        request.method, request.path, body=request.body, headers=request.headers
                    )
                    response = conn.getresponse()
                    body = response.read()
                    outcome = classify(response.status, body)
                except (OSError, http.client.HTTPException) as exc:
                    outcome, body = f"error: {type(exc).__name__}", b""
                    conn.close()  # reconnects on the next request
                my_latencies.append((time.perf_counter() - started) * 1000)
                mine[outcome] += 1
                if keep(outcome):
                    my_tagged.append((request.key, outcome, body))
        finally:
            conn.close()
            with lock:
                outcomes.update(mine)
                latencies.extend(my_latencies)
                tagged.extend(my_tagged)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    cpu = time.process_time()
    started = begun = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=max(1.0, stop_at - time.monotonic() + 70))
    seconds = time.perf_counter() - started
    return Run(
        seconds=seconds,
        outcomes=outcomes,
        latencies_ms=latencies,
        tagged=tagged,
        client_cpu_s=time.process_time() - cpu,
    )


def redis_cache_url() -> str | None:
    """A Redis database for the server's cache, as production sets CACHE_URL: BENCH_CACHE_URL,
    else database 1 of the Redis that tests/with_services.sh started (never its broker's 0)."""
    if os.environ.get("BENCH_CACHE_URL"):
        return os.environ["BENCH_CACHE_URL"]
    broker = os.environ.get("TEST_REDIS_URL", "")
    if not broker.startswith("redis://"):
        return None
    return broker.rsplit("/", 1)[0] + "/1"


def cache_for(url: str) -> BaseCache:
    """A cache client built from a CACHE_URL exactly as the server's settings build it."""
    import environ

    config = environ.Env.cache_url_config(url)
    backend = import_string(config.pop("BACKEND"))
    return backend(config.pop("LOCATION"), config)  # type: ignore[no-any-return]
