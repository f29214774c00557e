"""Settings of the production shape with more than one machine (docs/deploy.md, "pgbouncer"
and "More than one machine"): read in a fresh process, as a server would start."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

REPO_ROOT = Path(__file__).resolve().parent.parent
SHOW = (
    "import json; from django.conf import settings as s; db = s.DATABASES['default'];"
    "print(json.dumps({'cursors_off': db.get('DISABLE_SERVER_SIDE_CURSORS', False),"
    "'prepare': db.get('OPTIONS', {}).get('prepare_threshold', 'default'),"
    "'cache': s.CACHES['default']['BACKEND'],"
    "'private': s.STORAGES['private']['OPTIONS']['location']}))"
)


def _settings(tmp_path: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "union.settings",
            "DATABASE_URL": "postgres://solidaire@127.0.0.1:6432/solidaire",
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
            "SECRET_KEY": secrets.token_urlsafe(64),
            "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "FIELD_HASH_KEY": secrets.token_urlsafe(36),
            "SOLIDAIRE_VAR_DIR": str(tmp_path / "var"),
            "MEDIA_ROOT": str(tmp_path / "shared"),
            **extra,
        }
    )
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {SHOW}"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_behind_pgbouncer_nothing_outlives_a_transaction(tmp_path):
    result = _settings(tmp_path, DATABASE_TRANSACTION_POOLING="true")

    shown = json.loads(result.stdout)
    assert shown["cursors_off"] is True
    assert shown["prepare"] is None


def test_without_pgbouncer_cursors_and_prepared_statements_stay(tmp_path):
    shown = json.loads(_settings(tmp_path).stdout)

    assert (shown["cursors_off"], shown["prepare"]) == (False, "default")


def test_a_redis_cache_url_gets_the_cache_that_degrades_and_files_are_shared(tmp_path):
    shown = json.loads(_settings(tmp_path, CACHE_URL="redis://127.0.0.1:6379/1").stdout)

    assert shown["cache"] == "union.cache.RedisCache"
    # Pending imports live under the shared MEDIA_ROOT, not in a machine's own var dir.
    assert shown["private"] == str(tmp_path / "shared" / "private")


def test_a_claim_timeout_shorter_than_the_send_task_is_refused(tmp_path):
    result = _settings(tmp_path, OUTBOX_CLAIM_TIMEOUT="30")

    assert result.returncode != 0
    assert "OUTBOX_CLAIM_TIMEOUT" in result.stderr
