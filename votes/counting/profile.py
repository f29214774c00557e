"""The ballots of one ranked election, as counting needs them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

Ranking = tuple[int, ...]


class BallotError(ValueError):
    """A ranking that cannot be counted: a repeated or unknown candidate."""


def check_ranking(ranking: Iterable[int], candidates: int) -> Ranking:
    """Return the ranking as a tuple, or raise BallotError. Candidates are numbered from 1."""
    seen: set[int] = set()
    out = []
    for choice in ranking:
        if not isinstance(choice, int) or isinstance(choice, bool):
            raise BallotError(f"not a candidate number: {choice!r}")
        if not 1 <= choice <= candidates:
            raise BallotError(f"no candidate number {choice}")
        if choice in seen:
            raise BallotError(f"candidate {choice} is ranked twice")
        seen.add(choice)
        out.append(choice)
    return tuple(out)


@dataclass
class Profile:
    """Candidates 1..candidates, seats to fill, and how many ballots gave each ranking.

    Blank rankings may be present; they are not valid votes and count for nothing.
    """

    candidates: int
    seats: int
    rankings: Counter[Ranking] = field(default_factory=Counter)
    names: list[str] = field(default_factory=list)
    title: str = ""
    withdrawn: frozenset[int] = frozenset()

    def add(self, ranking: Iterable[int], count: int = 1) -> None:
        if count < 0:
            raise BallotError("a negative number of ballots")
        if count:
            self.rankings[check_ranking(ranking, self.candidates)] += count

    def name(self, candidate: int) -> str:
        if 1 <= candidate <= len(self.names):
            return self.names[candidate - 1]
        return str(candidate)

    @property
    def ballots(self) -> int:
        return sum(self.rankings.values())
