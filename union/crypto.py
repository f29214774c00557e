"""Encryption at rest for sensitive member fields, and keyed hashes for lookups.

Values are Fernet tokens (AES-128-CBC + HMAC-SHA256) under FIELD_ENCRYPTION_KEYS: the
first key encrypts, every listed key decrypts, so a new key can be put first and old
rows re-encrypted with `manage.py rotate_field_keys` before the old key is dropped.
Lookups (a member by phone) compare HMAC-SHA256 digests under FIELD_HASH_KEY, so the
database never holds the plain value nor an unkeyed hash that could be brute-forced.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k) for k in keys])


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt(value: str) -> str:
    return fernet().encrypt(value.encode()).decode("ascii")


def decrypt(token: str) -> str:
    try:
        return fernet().decrypt(token.encode("ascii")).decode()
    except InvalidToken as exc:
        raise ValueError("A stored value could not be decrypted with any configured key.") from exc


def rotate(token: str) -> str:
    """Re-encrypt a token under the first (newest) key."""
    return fernet().rotate(token.encode("ascii")).decode("ascii")


def keyed_hash(value: str) -> str:
    return hmac.new(settings.FIELD_HASH_KEY.encode(), value.encode(), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """A text field stored encrypted; empty values are stored as an empty string.

    It cannot be filtered or ordered on (the stored tokens are random); pair it
    with a keyed hash column where lookups are needed.
    """

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return encrypt(value)

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if value in (None, ""):
            return value
        return decrypt(value)
