"""Receipt codes: shown once to the voter, never stored.

A code is 12 characters from an alphabet of 31 that leaves out the look-alikes 0/O and
1/I/L, shown in three groups of four (K7QM-4XHP-R2TN): short enough to copy by hand, keep
as a photo or send to oneself by SMS. That is about 59 bits. The ballot does not keep the
code, nor a fast hash of it that a thief could reverse by trying every code; it keeps what
a slow salted hash gives:

- receipt_key(code, salt): scrypt (N=2^9, r=8, p=1: 512 KiB and about a millisecond
  each), with a random salt of the vote's, so a search must be made again for every vote.
- sealed_lookup(key): what the sealed ballot carries while the vote is open, so the
  voter finds it in the list of sealed ballots;
- counted_hash(key): what travels inside the sealed ballot and is published with the
  opened ballot after the count, so the voter finds it there too.

The two are different HMACs of the same slow key: nothing stored on the sealed side equals
anything on the counted side, and joining them takes the code itself. Searching all 31^12
codes costs about 2^59 scrypt runs for one vote: tens of thousands of years of a graphics
card's work, each run moving half a megabyte through memory. (A 10-character code would
cost a thousand times less to search, a few dozen card-years, for the same work at each
cast: the two characters buy that margin. The cost of scrypt is kept low because every
cast pays it, and casting must stay fast when a whole union votes in an evening.)
Anyone holding a code checks the published list without trusting the server, with the
salt shown on the list: docs/ballot-secrecy.md gives the few lines of Python it takes.

Votes opened before ballots were sealed keep their 28-character codes and plain SHA-256
(legacy_hash): at about 138 bits they cannot be searched, and their lists are published.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 12
LEGACY_LENGTH = 28
GROUP = 4
FINGERPRINT = 16  # hex characters shown in the published list
LOOK_ALIKES = "0O1IL"

# scrypt's cost: each cast and each lookup pays it once.
SCRYPT_N = 2**9
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16


def new_code(length: int = LENGTH) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalise(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def is_well_formed(code: str) -> bool:
    code = normalise(code)
    return len(code) in (LENGTH, LEGACY_LENGTH) and all(ch in ALPHABET for ch in code)


def has_look_alikes(code: str) -> bool:
    """A code typed with 0, O, 1, I or L: receipts never use them."""
    return any(ch in LOOK_ALIKES for ch in normalise(code))


def display(code: str) -> str:
    """ABCD-EFGH-JKMN, easier to copy by hand."""
    code = normalise(code)
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def receipt_key(code: str, salt: bytes) -> bytes:
    return hashlib.scrypt(
        normalise(code).encode(),
        salt=bytes(salt),
        n=SCRYPT_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        maxmem=4 * 128 * SCRYPT_R * SCRYPT_N,
        dklen=32,
    )


def sealed_lookup(key: bytes) -> str:
    return hmac.new(key, b"sealed ballot", hashlib.sha256).hexdigest()


def counted_hash(key: bytes) -> str:
    return hmac.new(key, b"counted ballot", hashlib.sha256).hexdigest()


def legacy_hash(code: str) -> str:
    """SHA-256 of a 28-character code, for votes opened before ballots were sealed."""
    return hashlib.sha256(normalise(code).encode()).hexdigest()


def fingerprint(hash_hex: str) -> str:
    short = hash_hex[:FINGERPRINT].upper()
    return " ".join(short[i : i + GROUP] for i in range(0, len(short), GROUP))


def box_fingerprint(sealed: bytes) -> str:
    """What the list of sealed ballots shows for each: the start of its SHA-256."""
    return fingerprint(hashlib.sha256(bytes(sealed)).hexdigest())
