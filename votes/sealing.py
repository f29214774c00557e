"""The secret ballot's cryptography: the vote's key, the tellers' key sheets, sealed ballots.

When a vote opens, 16 random bytes S become its X25519 key (HKDF-SHA256, the vote's public
id as info); only the public key is stored, and every online or assisted ballot is sealed
to it when cast (libsodium's sealed box, through PyNaCl). S itself is split with Shamir's
secret sharing (pycryptodome: 16-byte secrets, hence 16 bytes), k of n, one share per
teller, and each share is sealed to that teller's own key: the key on the sheet she printed
before the vote opened (12 BIP-39 words and a QR code). The server keeps her public key
and the sealed share; her words exist only on paper. At the count, k tellers type their
words; each opens her own share, the shares give S back, S gives the vote's private key,
and the ballots are opened in the memory of that one request.

Why the shares are sealed to the tellers rather than handed out at opening: a share
waiting on the server for its teller to fetch it would sit in the database, its WAL and
its backups; sealed to her sheet's key it is useless there. So sheets can be printed days
before, the vote opens by the clock with nobody present, and a mistyped sheet at the
count is named (its words give another public key than the one she confirmed).

Python cannot promise to wipe memory: keys and S are dropped as soon as they are used.
"""

from __future__ import annotations

import os
import struct
import unicodedata
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import TypeVar

from Crypto.Protocol.SecretSharing import Shamir
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.utils.translation import gettext as _
from mnemonic import Mnemonic
from nacl.bindings import crypto_box_seal_open
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

SECRET_BYTES = 16  # S and each teller's seed: what Shamir (GF(2^128)) and 12 words hold
WORDS = 12
WORD_LANGUAGES = ("english", "french")  # BIP-39 lists; a sheet is printed in either
VOTE_KEY_INFO = b"solidaire vote key v1 "
TELLER_KEY_INFO = b"solidaire teller key v1 "
BALLOT_VERSION = 1
# Threads that open a ballot box at the count, beside the one that writes the ballots.
OPEN_THREADS = min(4, os.cpu_count() or 1)
RECEIPT_BYTES = 32
_T = TypeVar("_T")
_R = TypeVar("_R")


class SheetError(ValueError):
    """Words that are not a key sheet, or not this teller's; the message is for people."""


def _derive(secret: bytes, info: bytes, public_id: uuid.UUID) -> PrivateKey:
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info + public_id.bytes)
    return PrivateKey(raw.derive(secret))


def vote_private_key(secret: bytes, public_id: uuid.UUID) -> PrivateKey:
    return _derive(secret, VOTE_KEY_INFO, public_id)


def teller_private_key(seed: bytes, public_id: uuid.UUID) -> PrivateKey:
    return _derive(seed, TELLER_KEY_INFO, public_id)


# --- a teller's key sheet -------------------------------------------------------------


@dataclass(frozen=True)
class KeySheet:
    seed: bytes
    public_key: bytes

    def words(self, language: str) -> list[str]:
        return str(_mnemonic(language).to_mnemonic(self.seed)).split()


def new_key_sheet(public_id: uuid.UUID) -> KeySheet:
    seed = os.urandom(SECRET_BYTES)
    return KeySheet(seed=seed, public_key=bytes(teller_private_key(seed, public_id).public_key))


def sheet_language(language_code: str) -> str:
    return "french" if language_code.startswith("fr") else "english"


@cache
def _mnemonic(language: str) -> Mnemonic:
    return Mnemonic(language)


def _plain(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.strip().lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@cache
def _word_index(language: str) -> tuple[dict[str, str], dict[str, str]]:
    """Each list's words by their plain spelling (no accents) and by their first four
    letters, which BIP-39 makes unique: a word typed with a slip after the fourth letter,
    or without its accents, is still found, and the checksum catches the rest."""
    words = _mnemonic(language).wordlist
    return {_plain(w): w for w in words}, {_plain(w)[:4]: w for w in words}


def seed_from_words(text: str) -> bytes:
    """The 16 bytes behind 12 typed words, English or French. Raises SheetError."""
    typed = [w for w in text.replace(",", " ").replace(".", " ").split() if not w.isdigit()]
    if len(typed) != WORDS:
        raise SheetError(
            _("A key sheet has %(words)s words; this has %(n)s.")
            % {"words": WORDS, "n": len(typed)}
        )
    fewest_unknown: list[str] = typed
    checksum_failed = False
    for language in WORD_LANGUAGES:
        whole, by_start = _word_index(language)
        found = [whole.get(_plain(w)) or by_start.get(_plain(w)[:4]) for w in typed]
        unknown = [w for w, f in zip(typed, found, strict=True) if f is None]
        if unknown:
            fewest_unknown = min(fewest_unknown, unknown, key=len)
            continue
        try:
            return bytes(_mnemonic(language).to_entropy([f for f in found if f]))
        except ValueError:  # the checksum: a word swapped or mistyped into another word
            checksum_failed = True
    if checksum_failed:
        raise SheetError(
            _("These words do not go together. Check each word, in order, against the sheet.")
        )
    raise SheetError(
        _("“%(word)s” is not a word of a key sheet. Check its spelling on the sheet.")
        % {"word": fewest_unknown[0]}
    )


def sheet_public_key(seed: bytes, public_id: uuid.UUID) -> bytes:
    return bytes(teller_private_key(seed, public_id).public_key)


# --- the vote's key -------------------------------------------------------------------


@dataclass(frozen=True)
class VoteKey:
    public_key: bytes
    sealed_shares: dict[int, bytes]  # teller number -> her share, sealed to her sheet's key


def make_vote_key(*, public_id: uuid.UUID, teller_keys: dict[int, bytes], needed: int) -> VoteKey:
    """A new key for the vote, split k of n among the tellers. S is never returned."""
    if needed < 2 or len(teller_keys) <= needed:
        raise ValueError("a vote's key needs k >= 2 and more tellers than k")
    secret = os.urandom(SECRET_BYTES)
    # Share x goes to teller number x; numbers freed by a removed teller get no share.
    shares = Shamir.split(needed, max(teller_keys), secret)
    sealed = {
        index: SealedBox(PublicKey(teller_keys[index])).encrypt(bytes([index]) + share)
        for index, share in shares
        if index in teller_keys
    }
    public_key = bytes(vote_private_key(secret, public_id).public_key)
    del secret, shares
    return VoteKey(public_key=public_key, sealed_shares=sealed)


def open_share(*, seed: bytes, public_id: uuid.UUID, sealed: bytes) -> tuple[int, bytes]:
    plain = SealedBox(teller_private_key(seed, public_id)).decrypt(sealed)
    return plain[0], bytes(plain[1:])


def recover_vote_key(
    *, public_id: uuid.UUID, public_key: bytes, shares: Sequence[tuple[int, bytes]]
) -> PrivateKey:
    """The vote's private key from k shares, checked against the stored public key."""
    secret = Shamir.combine(list(shares))
    key = vote_private_key(secret, public_id)
    del secret
    if bytes(key.public_key) != public_key:
        raise SheetError(_("These key sheets do not open this vote's ballot box."))
    return key


# --- sealed ballots -------------------------------------------------------------------


def ballot_size(options: int) -> int:
    """Every sealed ballot of a vote has the same length, whatever it says: otherwise the
    length would tell how many candidates a voter ranked."""
    return 1 + RECEIPT_BYTES + 2 + 2 * options


def seal_ballot(
    box: SealedBox, *, choices: Sequence[int], counted_receipt: bytes, options: int
) -> bytes:
    """version | receipt hash after the count (32) | how many choices | choices | zeros."""
    body = struct.pack(
        f">B{RECEIPT_BYTES}sH{len(choices)}H",
        BALLOT_VERSION,
        counted_receipt,
        len(choices),
        *choices,
    )
    return bytes(box.encrypt(body.ljust(ballot_size(options), b"\0")))


def sealing_box(public_key: bytes) -> SealedBox:
    return SealedBox(PublicKey(bytes(public_key)))


class BadBallot(ValueError):
    pass


def _unpack(plain: bytes) -> tuple[list[int], bytes]:
    try:
        version, receipt, n = struct.unpack_from(f">B{RECEIPT_BYTES}sH", plain)
        if version != BALLOT_VERSION:
            raise BadBallot("unknown ballot version")
        choices = list(struct.unpack_from(f">{n}H", plain, 1 + RECEIPT_BYTES + 2))
    except struct.error as exc:
        raise BadBallot(str(exc)) from None
    return choices, receipt


def ballot_opener(private_key: PrivateKey) -> Callable[[bytes], tuple[list[int], bytes] | None]:
    """A function that opens one sealed ballot of the vote: (choices, receipt hash after
    the count), or None for one that does not open. libsodium decrypts without holding
    Python's lock, so several threads can open ballots at once with the one key (which
    stays in this process's memory)."""
    public = bytes(private_key.public_key)
    secret = bytes(private_key)

    def open_one(sealed: bytes) -> tuple[list[int], bytes] | None:
        try:
            return _unpack(crypto_box_seal_open(sealed, public, secret))
        except (CryptoError, BadBallot):
            return None

    return open_one


def in_threads(
    work: Callable[[Sequence[_T]], _R],
    items: Sequence[_T],
    *,
    chunk: int,
    threads: int = OPEN_THREADS,
) -> Iterator[_R]:
    """work(part) for each `chunk` items in turn, in order, computed by `threads` threads
    ahead of the caller: the caller writes one part while the next ones are opened."""
    parts = [items[i : i + chunk] for i in range(0, len(items), chunk)]
    if threads <= 1 or len(parts) <= 1:
        yield from map(work, parts)
        return
    with ThreadPoolExecutor(max_workers=threads) as pool:
        yield from pool.map(work, parts)
