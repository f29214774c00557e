"""Motions, single-choice and approval votes: counting marks, then the rules that read them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from votes.counting.lot import draw

SIMPLE_MAJORITY = "simple"
TWO_THIRDS = "two_thirds"


@dataclass(frozen=True)
class MotionOutcome:
    votes_for: int
    against: int
    abstain: int
    carried: bool


def motion_outcome(*, votes_for: int, against: int, abstain: int, threshold: str) -> MotionOutcome:
    """Abstentions count for turnout but not in the majority.

    simple: carried when more vote for than against.
    two_thirds: carried when those for are at least two thirds of those for and against
    (3 x for >= 2 x (for + against)), and at least one voted for.
    """
    if threshold == TWO_THIRDS:
        carried = votes_for > 0 and 3 * votes_for >= 2 * (votes_for + against)
    elif threshold == SIMPLE_MAJORITY:
        carried = votes_for > against
    else:
        raise ValueError(f"unknown threshold {threshold!r}")
    return MotionOutcome(votes_for, against, abstain, carried)


def tally_marks(ballots: Iterable[tuple[tuple[int, ...], int]]) -> Counter[int]:
    """Marks per option from (marked options, number of such ballots) pairs."""
    totals: Counter[int] = Counter()
    for marked, n in ballots:
        for option in marked:
            totals[option] += n
    return totals


def winners(totals: dict[int, int], *, options: Iterable[int], seats: int, seed: str) -> list[int]:
    """The `seats` options with most marks; a tie at the cut is broken by lot."""
    ranked = sorted(options, key=lambda o: -totals.get(o, 0))
    if seats >= len(ranked):
        return ranked
    cut = totals.get(ranked[seats - 1], 0)
    safe = [o for o in ranked if totals.get(o, 0) > cut]
    tied = [o for o in ranked if totals.get(o, 0) == cut]
    chosen = list(safe)
    while len(chosen) < seats:
        pick = draw(seed, tied)
        chosen.append(pick)
        tied.remove(pick)
    return chosen
