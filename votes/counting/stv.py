"""Scottish STV: The Scottish Local Government Elections Order 2007 (SSI 2007/42), rules 45-52.

The rules as applied here, rule by rule:

- 45, 46: valid ballots are those with a first preference. Quota = floor(valid / (seats + 1)) + 1.
- 47: a candidate whose votes equal or exceed the quota at the end of a stage is elected.
  Several reaching it at one stage are elected in order of their votes.
- 48: a surplus (votes over the quota) is transferred by re-examining *every* ballot paper
  the candidate holds (the Weighted Inclusive Gregory Method). Each paper moves to its next
  preference still continuing, at value  paper value x surplus / candidate's votes,
  computed to five decimal places with the remainder ignored. Papers with no further
  preference are non-transferable. The elected candidate keeps exactly the quota; what the
  truncation loses is reported as "lost to rounding".
- 49: with several surpluses, the largest goes first. Equal surpluses: the candidate with
  more votes at the most recent preceding stage where they differed goes first; equal at
  every stage: by lot.
- 50: when no surplus is left to transfer, the candidate with the fewest votes is excluded
  and all their papers move on at the value they arrived with (one for first preferences).
- 51: a tie for fewest votes: the candidate with fewer votes at the most recent preceding
  stage where they differed is excluded; equal at every stage: by lot.
- 52: when the continuing candidates are no more than the seats left, they are all
  elected and nothing more is transferred (also not the papers of a candidate just excluded).

Ties among three or more: at the most recent stage where they were not all equal, only
those with the fewest (or most) votes stay tied, and the look-back goes on among them.
Lots are drawn as votes.counting.lot describes.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from votes.counting.lot import draw
from votes.counting.profile import Profile, Ranking
from votes.counting.result import UNIT, Result, Stage

# (ranking, index of the candidate now holding it, number of papers, value of each in units)
Parcel = tuple[Ranking, int, int, int]


class _Count:
    def __init__(self, profile: Profile, seed: str) -> None:
        self.profile = profile
        self.seed = seed
        self.seats = profile.seats
        self.continuing = set(range(1, profile.candidates + 1)) - set(profile.withdrawn)
        rankings: Counter[Ranking] = Counter()
        for ranking, count in profile.rankings.items():
            kept = tuple(c for c in ranking if c not in profile.withdrawn)
            if kept:
                rankings[kept] += count
        self.valid = sum(rankings.values())
        self.quota = self.valid // (self.seats + 1) + 1
        self.quota_units = self.quota * UNIT
        self.papers: dict[int, list[Parcel]] = defaultdict(list)
        self.votes: dict[int, int] = dict.fromkeys(self.continuing, 0)
        for ranking, count in sorted(rankings.items()):
            self.papers[ranking[0]].append((ranking, 0, count, UNIT))
            self.votes[ranking[0]] += count * UNIT
        self.elected: list[int] = []
        self.excluded: list[int] = []
        self.pending: list[int] = []  # elected, surplus not transferred yet
        self.history: list[dict[int, int]] = []
        self.stages: list[Stage] = []

    # --- ties -------------------------------------------------------------------------

    def break_tie(self, tied: list[int], *, most: bool, what: str, stage: Stage) -> int:
        """Rules 49(2)-(3) and 51(2): look back stage by stage, then draw lots."""
        group = sorted(tied)
        if len(group) == 1:
            return group[0]
        # history[-1] is the stage where they tie; look at the ones before it, newest first.
        for snapshot in reversed(self.history[:-1]):
            values = {c: snapshot.get(c, 0) for c in group}
            if len(set(values.values())) > 1:
                best = max(values.values()) if most else min(values.values())
                group = [c for c in group if values[c] == best]
                if len(group) == 1:
                    stage.notes.append(
                        f"tie ({what}) among {sorted(tied)} broken by an earlier stage: {group[0]}"
                    )
                    return group[0]
        chosen = draw(self.seed, group)
        stage.notes.append(f"tie ({what}) among {sorted(tied)} broken by lot: {chosen}")
        return chosen

    def ordered(self, candidates: list[int], *, most: bool, what: str, stage: Stage) -> list[int]:
        """Candidates in order of votes (highest first if most), ties broken by the rules."""
        rest = list(candidates)
        out = []
        while rest:
            pick = max if most else min
            best = pick(self.votes[c] for c in rest)
            tied = [c for c in rest if self.votes[c] == best]
            chosen = self.break_tie(tied, most=most, what=what, stage=stage)
            out.append(chosen)
            rest.remove(chosen)
        return out

    # --- stages -----------------------------------------------------------------------

    def close_stage(self, stage: Stage) -> None:
        """Record the totals and elect whoever reached the quota [47]."""
        self.history.append(dict(self.votes))
        stage.totals = dict(self.votes)
        self.stages.append(stage)
        reached = [c for c in self.continuing if self.votes[c] >= self.quota_units]
        for c in self.ordered(reached, most=True, what="order of election", stage=stage):
            self.continuing.discard(c)
            self.elected.append(c)
            stage.elected.append(c)
            if self.votes[c] > self.quota_units:
                self.pending.append(c)

    def move(self, parcels: list[Parcel], value_of: dict[int, int] | None, stage: Stage) -> int:
        """Move papers to their next continuing preference; returns the units moved or set aside.

        value_of maps an old paper value to its new one (a surplus transfer); None keeps values.
        """
        moved = 0
        for ranking, index, count, value in parcels:
            new_value = value if value_of is None else value_of[value]
            nxt = index + 1
            while nxt < len(ranking) and ranking[nxt] not in self.continuing:
                nxt += 1
            if nxt < len(ranking):
                to = ranking[nxt]
                self.papers[to].append((ranking, nxt, count, new_value))
                self.votes[to] += count * new_value
                stage.changes[to] = stage.changes.get(to, 0) + count * new_value
            else:
                stage.non_transferable += count * new_value
            moved += count * new_value
        return moved

    def transfer_surplus(self) -> None:
        stage = Stage(number=len(self.stages) + 1, kind="surplus")
        largest = max(self.votes[c] for c in self.pending)
        tied = [c for c in self.pending if self.votes[c] == largest]
        source = self.break_tie(tied, most=True, what="largest surplus", stage=stage)
        self.pending.remove(source)
        total = self.votes[source]
        surplus = total - self.quota_units
        parcels = self.papers.pop(source, [])
        # Rule 48(3): A = surplus x value of the paper, B = the candidate's votes, A / B to
        # five decimal places with the remainder ignored (integer floor division in units).
        value_of = {v: v * surplus // total for v in {p[3] for p in parcels}}
        moved = self.move(parcels, value_of, stage)
        stage.subject = source
        stage.transfer_value = surplus * UNIT // total
        stage.rounding = surplus - moved
        stage.changes[source] = -surplus
        self.votes[source] = self.quota_units
        self.close_stage(stage)

    def exclude_lowest(self) -> bool:
        """Rule 50. Returns False when rule 52 then fills the last seats (count over)."""
        stage = Stage(number=len(self.stages) + 1, kind="exclusion")
        lowest = min(self.votes[c] for c in self.continuing)
        tied = [c for c in self.continuing if self.votes[c] == lowest]
        out = self.break_tie(tied, most=False, what="exclusion", stage=stage)
        self.continuing.discard(out)
        self.excluded.append(out)
        stage.subject = out
        stage.excluded.append(out)
        if len(self.continuing) <= self.seats - len(self.elected):
            self.history.append(dict(self.votes))
            stage.totals = dict(self.votes)
            self.stages.append(stage)
            self.fill_last_vacancies(stage)
            return False
        parcels = self.papers.pop(out, [])
        stage.changes[out] = -self.votes[out]
        self.votes[out] = 0
        self.move(parcels, None, stage)
        self.close_stage(stage)
        return True

    def fill_last_vacancies(self, stage: Stage) -> None:
        """Rule 52: as many continuing candidates as seats left are all elected."""
        winners = self.ordered(
            sorted(self.continuing), most=True, what="order of election", stage=stage
        )
        for c in winners:
            self.continuing.discard(c)
            self.elected.append(c)
            stage.elected.append(c)
        if winners:
            stage.notes.append("last vacancies filled by the continuing candidates (rule 52)")

    def run(self) -> None:
        first = Stage(number=1, kind="first")
        first.changes = {c: v for c, v in self.votes.items() if v}
        self.close_stage(first)
        while len(self.elected) < self.seats:
            if len(self.continuing) <= self.seats - len(self.elected):
                self.fill_last_vacancies(self.stages[-1])
                break
            if self.pending:
                self.transfer_surplus()
            elif not self.exclude_lowest():
                break


def count_stv(profile: Profile, *, seed: str | None = None) -> Result:
    """Count a ranked election under the Scottish STV rules."""
    seed = profile.title if seed is None else seed
    count = _Count(profile, seed)
    count.run()
    return Result(
        method="scottish-stv",
        seats=profile.seats,
        candidates=profile.candidates,
        names=list(profile.names),
        valid=count.valid,
        quota=count.quota,
        elected=count.elected,
        stages=count.stages,
        seed=seed,
        withdrawn=sorted(profile.withdrawn),
    )
