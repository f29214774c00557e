"""Server logs carry paths, never query strings: an office search for a phone number or a
name must not land in a log file. `make run` (Django's development server) logs like
production's gunicorn does."""

from __future__ import annotations

import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PHONE = "76998877"
NAME = "Zqxsearched"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our server
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_the_development_server_logs_paths_without_query_strings(tmp_path):
    port = _free_port()
    # The embedded default, as `make run` starts it (no environment at all).
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "SOLIDAIRE_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "union.settings",
        "PYTHONUNBUFFERED": "1",
        "SOLIDAIRE_PLAIN_STATIC": "true",  # `make run` collects static files first
    }
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, "runserver stopped"
                assert time.monotonic() < deadline, "runserver did not start"
                time.sleep(0.2)
        base = f"http://127.0.0.1:{port}"
        statuses = [
            _get(f"{base}/office/nothing/?q={PHONE}"),  # a 404, logged as a warning too
            _get(f"{base}/i18n/setlang/?next=/office/members/%3Fq%3D{NAME}&q={PHONE}"),
        ]
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=30)

    assert statuses[0] == 404, output
    assert "/office/nothing/" in output, output  # requests are logged, by path
    assert "/i18n/setlang/" in output, output
    assert PHONE not in output, output
    assert NAME not in output


def _gunicorn_access_format(command: str) -> str:
    words = shlex.split(command.replace("%%", "%"))
    return words[words.index("--access-logformat") + 1]


# gunicorn atoms that carry a query string or who the visitor is: the request line (r),
# the query (q), the referrer (f), the browser (a), the address (h) and request headers.
UNWANTED_ATOMS = re.compile(r"%\((r|q|f|a|h|u|\{[^}]*\}i)\)s")


def test_gunicorn_access_logs_keep_the_path_only():
    procfile = (REPO / "Procfile").read_text()
    web = next(line for line in procfile.splitlines() if line.startswith("web:"))
    unit = (REPO / "docs" / "deploy" / "solidaire-web.service").read_text()
    exec_start = unit.split("ExecStart=", 1)[1].split("\nExec", 1)[0].replace("\\\n", " ")
    for command in (web.removeprefix("web:"), exec_start):
        log_format = _gunicorn_access_format(command)
        assert "%(U)s" in log_format, log_format
        assert not UNWANTED_ATOMS.search(log_format), log_format
