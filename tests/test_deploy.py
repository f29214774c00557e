"""What an operator relies on when deploying: the health probe and `check --deploy`."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from union.celery import app as celery_app

REPO_ROOT = Path(__file__).resolve().parent.parent


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def point_broker_at(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Make the Celery app talk to another broker for one test, then put it back.

    Celery reads CELERY_BROKER_URL from the environment before its own config,
    so both have to change; monkeypatch restores both, including the absence of a key.
    """

    # Reading a key loads the config; before that, .changes is not the real dict.
    celery_app.conf["broker_url"]

    def point(url: str) -> None:
        monkeypatch.setenv("CELERY_BROKER_URL", url)
        monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)
        monkeypatch.setitem(celery_app.conf.changes, "broker_url", url)

    return point


@pytest.mark.broker
@pytest.mark.django_db
def test_health_is_ok_when_database_and_broker_answer(client, point_broker_at) -> None:
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not redis_url:
        pytest.skip("needs a Redis server: run through tests/with_services.sh")
    point_broker_at(redis_url)

    response = client.get("/health/")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_health_is_503_when_the_broker_is_down(client, point_broker_at) -> None:
    point_broker_at(f"redis://127.0.0.1:{_closed_port()}/0")

    response = client.get("/health/")

    assert response.status_code == 503
    assert response.json() == {"database": "ok", "broker": "error"}
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_health_recovers_once_the_broker_is_back(client, point_broker_at) -> None:
    # Guards the restore above: a leaked broker_url would break every later test.
    point_broker_at(f"redis://127.0.0.1:{_closed_port()}/0")
    assert client.get("/health/").status_code == 503
    real_url = os.environ.get("TEST_REDIS_URL")
    if not real_url:
        pytest.skip("needs a Redis server: run through tests/with_services.sh")
    point_broker_at(real_url)
    assert client.get("/health/").status_code == 200


def test_check_deploy_passes_with_production_settings(tmp_path: Path) -> None:
    # A clean environment, so a developer's DEBUG=true cannot make this pass or fail.
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "union.settings",
            # check --deploy does not connect, so any PostgreSQL URL will do.
            "DATABASE_URL": os.environ.get(
                "DATABASE_URL", "postgres://solidaire@127.0.0.1:5432/solidaire"
            ),
            "CELERY_BROKER_URL": os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
            "SECRET_KEY": secrets.token_urlsafe(64),
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "FIELD_HASH_KEY": secrets.token_urlsafe(36),
            "DEBUG": "false",
            "SECURE_HTTPS": "true",
            "ALLOWED_HOSTS": "example.org",
            "CSRF_TRUSTED_ORIGINS": "https://example.org",
            "SOLIDAIRE_VAR_DIR": str(tmp_path / "var"),
            "STATIC_ROOT": str(tmp_path / "static"),
            "MEDIA_ROOT": str(tmp_path / "media"),
        }
    )

    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
