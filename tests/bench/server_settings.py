"""Settings for the server a benchmark starts: the project's own, plus a hello-world POST.

Everything else (middleware, sessions, CSRF, database from DATABASE_URL) is exactly what
production runs, so the hello-world and the measured screens pay the same way in.
"""

from __future__ import annotations

from union.settings import *  # noqa: F403

ROOT_URLCONF = "tests.bench.server_urls"
