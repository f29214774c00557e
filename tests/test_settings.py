"""Settings fail loudly on bad values, and the embedded default needs no environment.

Each case starts a fresh Python process, because settings are read once, at import.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
SETUP = "import django; django.setup()"

# Valid server-mode values; each test breaks one.
GOOD = {
    "DATABASE_URL": "postgres://solidaire@127.0.0.1:5432/solidaire",
    "SECRET_KEY": "Kq8Zt2mW7pL0vR4xN6bC1kJ9hF3sD5gA-q8Zt2mW7pL0vR4xN6bC1kJ9hF3s",
    "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "FIELD_HASH_KEY": "h" * 40,
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
}


WEAK_KEY = "short-but-random-Xq3"


def _run(env: dict[str, str], *args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "SOLIDAIRE_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "union.settings",
    }
    return subprocess.run(
        [PYTHON, *args],
        cwd=REPO,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _server(tmp_path: Path, **changes: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in {**GOOD, **changes}.items() if v is not None}
    return _run(env, "-c", SETUP, tmp_path=tmp_path)


def test_good_server_settings_start(tmp_path):
    result = _server(tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", "60 True"),
        ("?conn_max_age=0", "0 True"),
        ("?conn_max_age=600&conn_health_checks=false", "600 False"),
    ],
    ids=["kept-by-default", "one-per-request", "longer-without-checks"],
)
def test_database_connections_are_kept_between_requests_unless_told(tmp_path, query, expected):
    show = SETUP + (
        "; from django.conf import settings; d = settings.DATABASES['default']"
        "; print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"
    )
    env = {**GOOD, "DATABASE_URL": GOOD["DATABASE_URL"] + query}
    result = _run(env, "-c", show, tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == expected.split()


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY"),
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"FIELD_ENCRYPTION_KEYS": None}, "FIELD_ENCRYPTION_KEYS"),
        ({"FIELD_ENCRYPTION_KEYS": "not-a-fernet-key"}, "FIELD_ENCRYPTION_KEYS"),
        ({"FIELD_ENCRYPTION_KEYS": f"{GOOD['FIELD_ENCRYPTION_KEYS']},oops"}, "Fernet"),
        ({"FIELD_HASH_KEY": "too-short"}, "FIELD_HASH_KEY"),
        ({"CELERY_BROKER_URL": "amqp://guest@localhost//"}, "CELERY_BROKER_URL"),
        ({"SMS_BACKEND": "union.notifications.sms.AfricasTalkingSmsBackend"}, "AFRICASTALKING"),
        ({"SECURE_HTTPS": "flase"}, "SECURE_HTTPS"),
        ({"DEBUG": "maybe"}, "DEBUG"),
        ({"DEBUG": "true"}, "DEBUG must be false"),
        ({"SECRET_KEY": WEAK_KEY}, "SECRET_KEY is too weak"),
        ({"SECRET_KEY": "ab" * 40}, "SECRET_KEY is too weak"),
        ({"SECRET_KEY": "django-insecure-" + GOOD["SECRET_KEY"]}, "SECRET_KEY is too weak"),
        ({"SECRET_KEY_FALLBACKS": "too-short"}, "SECRET_KEY_FALLBACKS"),
        ({"SET_PASSWORD_CODE_HOURS": "three days"}, "invalid literal"),
    ],
    ids=[
        "no-secret-key",
        "empty-secret-key",
        "no-encryption-keys",
        "bad-encryption-key",
        "one-bad-key-in-the-list",
        "short-hash-key",
        "non-redis-broker",
        "sms-provider-without-credentials",
        "misspelt-boolean",
        "unreadable-boolean",
        "debug-on",
        "short-secret-key",
        "secret-key-of-two-characters",
        "placeholder-secret-key",
        "weak-fallback-key",
        "unreadable-number",
    ],
)
def test_bad_server_settings_stop_the_process(tmp_path, changes, named):
    result = _server(tmp_path, **changes)
    assert result.returncode != 0, f"started with {changes}"
    assert named in result.stderr


def test_a_refused_key_is_never_printed(tmp_path):
    result = _server(tmp_path, SECRET_KEY=WEAK_KEY)
    assert result.returncode != 0
    assert WEAK_KEY not in result.stderr + result.stdout


def test_the_embedded_default_needs_no_environment(tmp_path):
    result = _run({}, "manage.py", "check", tmp_path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
    # Its secrets were generated once, outside the database, readable by the owner only.
    secrets = tmp_path / "var" / "secrets.json"
    assert secrets.exists()
    assert secrets.stat().st_mode & 0o077 == 0

    first = secrets.read_text()
    again = _run({}, "manage.py", "check", tmp_path=tmp_path)
    assert again.returncode == 0, again.stderr
    assert secrets.read_text() == first  # the same keys next time, or nothing would decrypt
