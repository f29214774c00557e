"""Drawing lots, reproducibly.

The Scottish rules (49(3), 51(2)(b)) end a tie that no earlier stage breaks "by lot".
A lot drawn by a person cannot be re-run by a recount, so Solidaire draws it once,
before counting, from a published seed:

    lot key of candidate c = SHA-256 of the UTF-8 text "<seed>:<c>", as a hex string

and a tie is decided by the lowest key: that candidate is excluded first, or has their
surplus transferred first. The seed of a Solidaire election is its BLT title (the vote's
title and its public id), so counting the downloaded BLT file draws the same lots.
Anyone can compute the keys with `sha256sum`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def lot_key(seed: str, candidate: int) -> str:
    return hashlib.sha256(f"{seed}:{candidate}".encode()).hexdigest()


def draw(seed: str, tied: Iterable[int]) -> int:
    """The candidate the lot picks among `tied`."""
    return min(tied, key=lambda c: lot_key(seed, c))
