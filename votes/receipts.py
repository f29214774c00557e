"""Receipt codes: shown once to the voter, only their hash is kept with the ballot.

A code is 28 characters from an alphabet of 31 (no 0/O, 1/I/L), about 138 bits, so it
cannot be guessed and its SHA-256 cannot be reversed. The hash is plain (not keyed) so
that anyone holding a code can check the published list without trusting the server:
`printf %s CODE | sha256sum`.
"""

from __future__ import annotations

import hashlib
import secrets

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 28
GROUP = 4
FINGERPRINT = 16  # hex characters shown in the published list


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def receipt_hash(code: str) -> str:
    return hashlib.sha256(normalise(code).encode()).hexdigest()


def display(code: str) -> str:
    """ABCD-EFGH-..., easier to copy by hand."""
    code = normalise(code)
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def fingerprint(hash_hex: str) -> str:
    short = hash_hex[:FINGERPRINT].upper()
    return " ".join(short[i : i + GROUP] for i in range(0, len(short), GROUP))
