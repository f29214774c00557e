"""Instant-runoff voting for one seat.

Each round, every ballot counts for its highest-ranked continuing candidate. A candidate
with more than half of the votes still in the count (exhausted ballots are not) wins.
Otherwise the candidate with the fewest votes is excluded and their ballots move on.
Ties for fewest are broken as in Scottish STV rule 51: fewer votes at the most recent
earlier round where they differed, then by lot (votes.counting.lot).
With one candidate left, that candidate wins.
"""

from __future__ import annotations

from collections import Counter

from votes.counting.lot import draw
from votes.counting.profile import Profile, Ranking
from votes.counting.result import UNIT, Result, Stage


def count_irv(profile: Profile, *, seed: str | None = None) -> Result:
    seed = profile.title if seed is None else seed
    continuing = set(range(1, profile.candidates + 1)) - set(profile.withdrawn)
    rankings: Counter[Ranking] = Counter()
    for ranking, n in profile.rankings.items():
        kept = tuple(c for c in ranking if c not in profile.withdrawn)
        if kept:
            rankings[kept] += n
    valid = sum(rankings.values())
    history: list[dict[int, int]] = []
    stages: list[Stage] = []
    elected: list[int] = []
    previous: dict[int, int] = {}
    excluded_last: int | None = None
    while continuing:
        votes = dict.fromkeys(continuing, 0)
        for ranking, n in rankings.items():
            top = next((c for c in ranking if c in continuing), None)
            if top is not None:
                votes[top] += n
        live = sum(votes.values())
        stage = Stage(
            number=len(stages) + 1,
            kind="first" if not stages else "exclusion",
            subject=excluded_last,
            threshold=live // 2 + 1,
            totals={c: v * UNIT for c, v in votes.items()},
        )
        if excluded_last is not None:
            stage.excluded.append(excluded_last)
            stage.totals[excluded_last] = 0
            stage.changes = {
                c: (v - previous.get(c, 0)) * UNIT for c, v in votes.items() if v != previous.get(c)
            }
            stage.changes[excluded_last] = -previous.get(excluded_last, 0) * UNIT
            stage.non_transferable = (sum(previous.values()) - live) * UNIT
        else:
            stage.changes = {c: v * UNIT for c, v in votes.items() if v}
        history.append(votes)
        stages.append(stage)
        leader = max(votes.values())
        if leader * 2 > live or len(continuing) == 1:
            winners = [c for c in continuing if votes[c] == leader]
            winner = winners[0] if len(winners) == 1 else draw(seed, winners)
            elected.append(winner)
            stage.elected.append(winner)
            break
        lowest = min(votes.values())
        group = sorted(c for c in continuing if votes[c] == lowest)
        tied = list(group)
        for snapshot in reversed(history[:-1]):
            values = {c: snapshot.get(c, 0) for c in group}
            if len(set(values.values())) > 1:
                least = min(values.values())
                group = [c for c in group if values[c] == least]
                if len(group) == 1:
                    break
        out = group[0] if len(group) == 1 else draw(seed, group)
        if len(tied) > 1:
            how = "an earlier round" if len(group) == 1 else "lot"
            stage.notes.append(f"tie (exclusion) among {tied} broken by {how}: {out}")
        continuing.discard(out)
        previous = votes
        excluded_last = out
    return Result(
        method="irv",
        seats=1,
        candidates=profile.candidates,
        names=list(profile.names),
        valid=valid,
        quota=valid // 2 + 1,
        elected=elected,
        stages=stages,
        seed=seed,
        decimals=0,
        withdrawn=sorted(profile.withdrawn),
    )
