"""What a count returns: the elected, the quota and every stage, ready to publish."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Votes are counted in hundred-thousandths of a vote: Scottish STV computes transfer
# values "to five decimal places (any remainder being ignored)" [rule 48(3)], and
# integers make that truncation exact. One ballot at full value is UNIT.
UNIT = 100_000


def fmt(units: int, decimals: int = 5) -> str:
    """Units as a decimal string: fmt(123450000) == "1234.50000"."""
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), UNIT)
    if decimals == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{frac:05d}"


@dataclass
class Stage:
    """One stage of the count and what it did.

    kind: "first" (first preferences), "surplus" (a surplus transferred), "exclusion".
    changes: votes gained by each candidate at this stage (the source loses them).
    totals: every candidate's votes at the end of the stage.
    """

    number: int
    kind: str
    subject: int | None = None
    transfer_value: int | None = None  # units; the surplus over the candidate's votes
    changes: dict[int, int] = field(default_factory=dict)
    totals: dict[int, int] = field(default_factory=dict)
    non_transferable: int = 0  # units set aside at this stage: no further preference
    rounding: int = 0  # units lost to the five-decimal truncation at this stage
    threshold: int | None = None  # IRV: votes needed this round (a majority)
    elected: list[int] = field(default_factory=list)
    excluded: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Result:
    method: str
    seats: int
    candidates: int
    names: list[str]
    valid: int  # valid ballots (at least one preference)
    quota: int  # whole votes
    elected: list[int]
    stages: list[Stage]
    seed: str
    decimals: int = 5
    withdrawn: list[int] = field(default_factory=list)

    def name(self, candidate: int) -> str:
        if 1 <= candidate <= len(self.names):
            return self.names[candidate - 1]
        return str(candidate)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, the one stored with a published vote and printed by count_blt."""
        d = self.decimals

        def votes(mapping: dict[int, int]) -> dict[str, str]:
            return {str(c): fmt(v, d) for c, v in sorted(mapping.items())}

        return {
            "method": self.method,
            "seats": self.seats,
            "candidates": [
                {"number": c, "name": self.name(c)} for c in range(1, self.candidates + 1)
            ],
            "withdrawn": self.withdrawn,
            "valid": self.valid,
            "quota": self.quota,
            "seed": self.seed,
            "elected": [{"number": c, "name": self.name(c)} for c in self.elected],
            "stages": [
                {
                    "number": s.number,
                    "kind": s.kind,
                    "subject": s.subject,
                    "transfer_value": None
                    if s.transfer_value is None
                    else fmt(s.transfer_value, 5),
                    "threshold": s.threshold,
                    "changes": votes(s.changes),
                    "totals": votes(s.totals),
                    "non_transferable": fmt(s.non_transferable, d),
                    "rounding": fmt(s.rounding, d),
                    "elected": s.elected,
                    "excluded": s.excluded,
                    "notes": s.notes,
                }
                for s in self.stages
            ],
        }
