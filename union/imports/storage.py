"""Keep an uploaded register between its preview and the officer's confirmation.

The file is written encrypted (the field keys' Fernet, with its timestamp used as an
expiry) under a random token in the "private" storage (settings.STORAGES); only the token
goes into the session. Through Django's storage API, so that the preview and the
confirmation may land on different machines: a directory they share by default, or
object storage (docs/deploy.md). Nothing about the file appears in a URL or a log line.
Files are removed on confirmation or cancellation, and any left behind are swept once
they expire.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from datetime import timedelta

from cryptography.fernet import InvalidToken
from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.utils import timezone

from union.crypto import fernet

PENDING_SECONDS = 3600
FOLDER = "imports"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def _storage() -> Storage:
    return storages["private"]


def _name(token: str, folder: str = FOLDER) -> str | None:
    return f"{folder}/{token}.bin" if _TOKEN.match(token or "") else None


def save_pending(data: bytes, folder: str = FOLDER) -> str:
    """Store the upload encrypted; return the token that finds it again. Also used for
    exports waiting to be downloaded (folder "exports")."""
    sweep_expired(folder)
    token = secrets.token_urlsafe(32)
    name = _storage().save(f"{folder}/{token}.bin", ContentFile(fernet().encrypt(data)))
    if name != f"{folder}/{token}.bin":  # a 256-bit token never collides; be sure anyway
        _storage().delete(name)
        raise RuntimeError("pending file name taken")
    return token


def load_pending(token: str, folder: str = FOLDER) -> bytes | None:
    """The stored file, or None if the token is unknown, malformed or expired."""
    name = _name(token, folder)
    if name is None:
        return None
    try:
        with _storage().open(name, "rb") as handle:
            sealed = handle.read()
    except FileNotFoundError:
        return None
    try:
        return fernet().decrypt(sealed, ttl=PENDING_SECONDS)
    except InvalidToken:
        discard_pending(token, folder)
        return None


def discard_pending(token: str, folder: str = FOLDER) -> None:
    name = _name(token, folder)
    if name is not None:
        with contextlib.suppress(FileNotFoundError):
            _storage().delete(name)


def sweep_expired(folder: str = FOLDER) -> None:
    storage = _storage()
    limit = timezone.now() - timedelta(seconds=PENDING_SECONDS)
    try:
        _folders, files = storage.listdir(folder)
    except FileNotFoundError:
        return
    for filename in files:
        if not filename.endswith(".bin"):
            continue
        with contextlib.suppress(FileNotFoundError):
            if storage.get_modified_time(f"{folder}/{filename}") < limit:
                storage.delete(f"{folder}/{filename}")
