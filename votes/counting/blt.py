"""The BLT ballot file format, read by most STV counting programs (OpenSTV, Droop, eSTV).

    4 2              candidates, seats
    -3               optional: withdrawn candidates, as negative numbers
    12 1 2 0         12 ballots ranking candidate 1 first, then 2; each line ends with 0
    3 4 0
    0                end of ballots
    "Awa"            one quoted name per candidate, in number order
    "Fanta"
    "Mariam"
    "Rokia"
    "Board election" the title

Equal rankings ("1=2") and fractional weights are not part of what Solidaire reads.
"""

from __future__ import annotations

import re

from votes.counting.profile import BallotError, Profile

_QUOTED = re.compile(r'^"((?:[^"\\]|\\.)*)"$')
MAX_CANDIDATES = 1000


class BltError(ValueError):
    def __init__(self, line: int, problem: str) -> None:
        super().__init__(f"line {line}: {problem}")
        self.line = line
        self.problem = problem


def _ints(line_no: int, text: str) -> list[int]:
    try:
        return [int(tok) for tok in text.split()]
    except ValueError:
        raise BltError(line_no, f"expected whole numbers, found {text.strip()[:40]!r}") from None


def parse_blt(text: str) -> Profile:
    """Read a BLT file. Raises BltError (with the line number) on anything malformed."""
    lines = [
        (n, line.strip())
        for n, line in enumerate(text.lstrip("\ufeff").splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        raise BltError(1, "the file is empty")
    it = iter(lines)
    n, header = next(it)
    head = _ints(n, header)
    if len(head) != 2:
        raise BltError(n, "the first line must give the number of candidates and of seats")
    candidates, seats = head
    if not 1 <= candidates <= MAX_CANDIDATES:
        raise BltError(n, "the number of candidates must be between 1 and 1000")
    if not 1 <= seats <= candidates:
        raise BltError(n, "the number of seats must be between 1 and the number of candidates")
    profile = Profile(candidates=candidates, seats=seats)
    withdrawn: set[int] = set()
    ended = False
    for n, line in it:
        numbers = _ints(n, line)
        if numbers and all(x < 0 for x in numbers):
            for x in numbers:
                if -x > candidates:
                    raise BltError(n, f"no candidate number {-x} to withdraw")
                withdrawn.add(-x)
            continue
        if numbers == [0]:
            ended = True
            break
        if len(numbers) < 2 or numbers[-1] != 0:
            raise BltError(n, "a ballot line must be a count, the preferences, then 0")
        weight, prefs = numbers[0], numbers[1:-1]
        if weight < 1:
            raise BltError(n, "a ballot count must be at least 1")
        try:
            profile.add(prefs, weight)
        except BallotError as exc:
            raise BltError(n, str(exc)) from None
    if not ended:
        raise BltError(lines[-1][0], "the ballots must end with a line holding only 0")
    strings = []
    for n, line in it:
        match = _QUOTED.match(line)
        if match is None:
            raise BltError(n, "names and the title must be in double quotes")
        strings.append(match.group(1).replace('\\"', '"').replace("\\\\", "\\"))
    if len(strings) < candidates:
        raise BltError(lines[-1][0], f"{candidates} candidate names expected, {len(strings)} found")
    if len(strings) > candidates + 1:
        raise BltError(lines[-1][0], "more names than candidates (and a title)")
    profile.names = strings[:candidates]
    profile.title = strings[candidates] if len(strings) > candidates else ""
    profile.withdrawn = frozenset(withdrawn)
    return profile


def _quote(text: str) -> str:
    clean = " ".join(text.split())
    return '"' + clean.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_blt(profile: Profile) -> str:
    """A BLT file with one line per distinct ranking, most common first (ties by ranking)."""
    out = [f"{profile.candidates} {profile.seats}"]
    if profile.withdrawn:
        out.append(" ".join(f"-{c}" for c in sorted(profile.withdrawn)))
    for ranking, count in sorted(profile.rankings.items(), key=lambda kv: (-kv[1], kv[0])):
        if ranking:
            out.append(" ".join([str(count), *map(str, ranking), "0"]))
    out.append("0")
    out.extend(_quote(profile.name(c)) for c in range(1, profile.candidates + 1))
    out.append(_quote(profile.title))
    return "\n".join(out) + "\n"
