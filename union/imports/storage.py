"""Keep an uploaded register between its preview and the officer's confirmation.

The file is written encrypted (the field keys' Fernet, with its timestamp used as an
expiry) under a random token in a private directory; only the token goes into the
session. Nothing about the file appears in a URL or a log line. Files are removed on
confirmation or cancellation, and any left behind are swept once they expire.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import time
from pathlib import Path

from cryptography.fernet import InvalidToken
from django.conf import settings

from union.crypto import fernet

PENDING_SECONDS = 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def pending_dir() -> Path:
    configured = getattr(settings, "IMPORT_PENDING_DIR", None)
    path = Path(configured) if configured else Path(settings.VAR_DIR) / "imports"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _path(token: str) -> Path | None:
    return pending_dir() / f"{token}.bin" if _TOKEN.match(token or "") else None


def save_pending(data: bytes) -> str:
    """Store the upload encrypted; return the token that finds it again."""
    sweep_expired()
    token = secrets.token_urlsafe(32)
    path = pending_dir() / f"{token}.bin"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(fernet().encrypt(data))
    return token


def load_pending(token: str) -> bytes | None:
    """The stored upload, or None if the token is unknown, malformed or expired."""
    path = _path(token)
    if path is None:
        return None
    try:
        sealed = path.read_bytes()
    except FileNotFoundError:
        return None
    try:
        return fernet().decrypt(sealed, ttl=PENDING_SECONDS)
    except InvalidToken:
        discard_pending(token)
        return None


def discard_pending(token: str) -> None:
    path = _path(token)
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def sweep_expired() -> None:
    limit = time.time() - PENDING_SECONDS
    for path in pending_dir().glob("*.bin"):
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_mtime < limit:
                path.unlink()
