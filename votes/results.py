"""The result of a vote, read from its ballots and tallies: the anonymised ballots for
recounts (BLT), the checks that ballots and marks agree, and the published result.
Nothing here writes; votes.services.counting closes, counts and publishes.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.utils.translation import gettext, ngettext

from votes.counting import tally
from votes.counting.blt import write_blt
from votes.counting.irv import count_irv
from votes.counting.profile import Profile
from votes.counting.stv import count_stv
from votes.models import (
    Ballot,
    BallotChannel,
    BranchTally,
    SealedBallot,
    Vote,
    VoteKind,
    VoteMark,
)


def grouped_ballots(vote: Vote) -> list[tuple[tuple[int, ...], int]]:
    """(choices, how many ballots) for the electronic ballots: one GROUP BY in the database."""
    rows = Ballot.objects.filter(vote=vote).values_list("choices").annotate(n=Count("*")).order_by()
    return [(tuple(choices), n) for choices, n in rows]


def election_profile(vote: Vote, *, with_paper: bool = True) -> Profile:
    options = list(vote.options.order_by("number"))
    profile = Profile(
        candidates=len(options),
        seats=vote.seats,
        names=[o.label for o in options],
        title=vote.lot_seed,
    )
    for ranking, n in grouped_ballots(vote):
        profile.add(ranking, n)
    if with_paper:
        for paper in BranchTally.objects.filter(vote=vote):
            for n, ranking in paper.counts:
                profile.add(ranking, n)
    return profile


def blt_for(vote: Vote) -> str:
    """The anonymised ballots of an election, paper included, as a BLT file."""
    return write_blt(election_profile(vote))


# Why a count is held back, as stored on the vote (Vote.held_problems): a code and its
# figures, never a sentence, so that each reader gets it in their own language
# (describe_problem) and a changed wording changes no stored row.
BALLOTS_WITHOUT_MARKS = "ballots_marks"  # ballots, marks
SEALED_UNOPENED = "sealed_unopened"  # ballots
PAPER_WITHOUT_TALLY = "paper_no_tally"  # branch, given_out
PAPER_OVER_GIVEN_OUT = "paper_over"  # branch, counted, given_out


def count_problems(vote: Vote) -> list[dict[str, Any]]:
    """Why the count cannot be published; empty when ballots and marks agree."""
    problems: list[dict[str, Any]] = []
    electronic = Ballot.objects.filter(vote=vote).count()
    marked = VoteMark.objects.filter(
        vote=vote, channel__in=[BallotChannel.ONLINE, BallotChannel.ASSISTED]
    ).count()
    if electronic != marked:
        problems.append({"code": BALLOTS_WITHOUT_MARKS, "ballots": electronic, "marks": marked})
    unopened = SealedBallot.objects.filter(vote=vote).count()
    if unopened:
        problems.append({"code": SEALED_UNOPENED, "ballots": unopened})
    paper_marks = dict(
        VoteMark.objects.filter(vote=vote, channel=BallotChannel.PAPER)
        .values_list("branch__code")
        .annotate(n=Count("*"))
        .order_by()
    )
    tallies = {t.branch.code: t.ballots for t in vote.tallies.select_related("branch")}
    for code in sorted(set(paper_marks) | set(tallies)):
        issued, counted = paper_marks.get(code, 0), tallies.get(code)
        if counted is None:
            problems.append({"code": PAPER_WITHOUT_TALLY, "branch": code, "given_out": issued})
        elif counted > issued:
            problems.append(
                {
                    "code": PAPER_OVER_GIVEN_OUT,
                    "branch": code,
                    "counted": counted,
                    "given_out": issued,
                }
            )
    return problems


def describe_problem(problem: dict[str, Any]) -> str:
    """One stored problem in the reader's language (the active one)."""
    code = problem.get("code")
    if code == BALLOTS_WITHOUT_MARKS:
        return gettext(
            "The ballots cast online or on officers' devices (%(ballots)s) do not match the "
            "members marked as having voted that way (%(marks)s)."
        ) % {"ballots": problem["ballots"], "marks": problem["marks"]}
    if code == SEALED_UNOPENED:
        return ngettext(
            "%(n)s sealed ballot does not open to a valid ballot.",
            "%(n)s sealed ballots do not open to a valid ballot.",
            problem["ballots"],
        ) % {"n": problem["ballots"]}
    if code == PAPER_WITHOUT_TALLY:
        return ngettext(
            "Branch %(branch)s: %(n)s paper ballot given out, and no confirmed tally.",
            "Branch %(branch)s: %(n)s paper ballots given out, and no confirmed tally.",
            problem["given_out"],
        ) % {"branch": problem["branch"], "n": problem["given_out"]}
    if code == PAPER_OVER_GIVEN_OUT:
        return gettext(
            "Branch %(branch)s: more paper ballots counted (%(counted)s) than given out (%(n)s)."
        ) % {"branch": problem["branch"], "counted": problem["counted"], "n": problem["given_out"]}
    # A reason stored before codes that its migration could not read (votes 0005): as it was.
    return str(problem.get("text", ""))


def compute_result(vote: Vote) -> dict[str, Any]:
    """The result as published: turnout, quorum, totals, and the rounds of an election."""
    eligible = vote.eligible_count or 0
    turnout = VoteMark.objects.filter(vote=vote).count()
    quorum_met = turnout * 100 >= vote.quorum_percent * eligible and turnout > 0
    options = {o.number: o.label for o in vote.options.all()}
    paper = sum(t.ballots for t in vote.tallies.all())
    result: dict[str, Any] = {
        "kind": vote.kind,
        "eligible": eligible,
        "turnout": turnout,
        "quorum_percent": vote.quorum_percent,
        "quorum_met": quorum_met,
        "electronic_ballots": Ballot.objects.filter(vote=vote).count(),
        "paper_ballots": paper,
    }
    if vote.kind == VoteKind.ELECTION:
        profile = election_profile(vote)
        count = count_irv(profile) if vote.seats == 1 else count_stv(profile)
        result["count"] = count.to_dict()
        result["elected"] = count.elected
        first = count.stages[0].totals if count.stages else {}
        result["totals"] = [
            {"number": n, "label": label, "votes": first.get(n, 0) // 100_000}
            for n, label in sorted(options.items())
        ]
    else:
        marks = tally.tally_marks(grouped_ballots(vote))
        for paper_tally in vote.tallies.all():
            for number, n in paper_tally.counts.items():
                marks[int(number)] += n
        result["totals"] = [
            {"number": n, "label": label, "votes": marks.get(n, 0)}
            for n, label in sorted(options.items())
        ]
        if vote.kind == VoteKind.MOTION:
            outcome = tally.motion_outcome(
                votes_for=marks.get(1, 0),
                against=marks.get(2, 0),
                abstain=marks.get(3, 0),
                threshold=vote.threshold,
            )
            result["carried"] = outcome.carried and quorum_met
            result["elected"] = []
        else:
            result["elected"] = tally.winners(
                dict(marks), options=sorted(options), seats=vote.seats, seed=vote.lot_seed
            )
    result["valid"] = quorum_met
    return result
