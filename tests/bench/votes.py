"""Vote benchmarks. Entry point: run() -> list of result dicts (name, figures, ok).

Needs PostgreSQL (tests/with_services.sh) and a migrated database; it creates its own
branch, members and votes in the database it is given and removes the ballots after.

- tally: a 1,000,000-ballot single-choice tally through the service's GROUP BY vs a raw
  SQL GROUP BY on the same rows (target: at least 0.5x the raw speed).
- stv: Scottish STV over 100,000 random ranked ballots, 20 candidates, 7 seats.
- casting (not yet here): 20,000 members at 32 concurrent clients vs a hello-world POST.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta
from typing import Any

from django.db import connection
from django.utils import timezone

from union.votes.counting.profile import Profile
from union.votes.counting.stv import count_stv

TALLY_BALLOTS = 1_000_000
STV_BALLOTS = 100_000


def _vote(kind: str, options: int) -> Any:
    from union.models import Branch, Member, MemberStatus, RegistrationSource
    from union.votes.models import Vote, VoteOption

    branch, _ = Branch.objects.get_or_create(code="BENCH", defaults={"name": "Bench"})
    officer, _ = Member.objects.get_or_create(
        number="BENCH-000001",
        defaults={
            "branch": branch,
            "working_name": "Bench officer",
            "status": MemberStatus.ACTIVE,
            "source": RegistrationSource.IMPORT,
        },
    )
    now = timezone.now()
    vote = Vote.objects.create(
        kind=kind,
        title="bench",
        branch=branch,
        opens_at=now - timedelta(days=2),
        closes_at=now - timedelta(days=1),
        returning_officer=officer,
        status="counting",
    )
    VoteOption.objects.bulk_create(
        [VoteOption(vote=vote, number=n, label=f"Option {n}") for n in range(1, options + 1)]
    )
    return vote


def bench_tally() -> dict[str, Any]:
    from union.votes.models import Ballot
    from union.votes.results import grouped_ballots

    vote = _vote("single", 5)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO union_ballot (id, vote_id, choices, receipt_hash) "
            "SELECT gen_random_uuid(), %s, jsonb_build_array(1 + floor(random() * 5)::int), "
            "md5(g::text || random()::text) || md5(random()::text) "
            "FROM generate_series(1, %s) g",
            [vote.pk, TALLY_BALLOTS],
        )
        cursor.execute("ANALYZE union_ballot")
    best_service = best_raw = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        ours = grouped_ballots(vote)
        best_service = min(best_service, time.perf_counter() - t)
        t = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT choices, count(*) FROM union_ballot WHERE vote_id = %s GROUP BY choices",
                [vote.pk],
            )
            raw = cursor.fetchall()
        best_raw = min(best_raw, time.perf_counter() - t)
    assert sum(n for _c, n in ours) == TALLY_BALLOTS == sum(n for _c, n in raw)
    Ballot.objects.filter(vote=vote).delete()
    ratio = best_raw / best_service
    return {
        "name": "votes: 1,000,000-ballot plurality tally",
        "service_s": round(best_service, 3),
        "raw_sql_s": round(best_raw, 3),
        "speed_vs_raw": round(ratio, 2),
        "ok": ratio >= 0.5,
    }


def bench_stv() -> dict[str, Any]:
    rng = random.Random(7)
    weights = [rng.random() ** 2 for _ in range(20)]
    profile = Profile(candidates=20, seats=7, title="bench")
    for _ in range(STV_BALLOTS):
        pool = list(range(1, 21))
        ranking = []
        for _place in range(rng.randint(1, 20)):
            pick = rng.choices(pool, weights=[weights[c - 1] for c in pool])[0]
            pool.remove(pick)
            ranking.append(pick)
        profile.add(ranking)
    t = time.perf_counter()
    result = count_stv(profile)
    seconds = time.perf_counter() - t
    return {
        "name": "votes: Scottish STV, 100,000 ballots, 20 candidates, 7 seats",
        "seconds": round(seconds, 2),
        "distinct_rankings": len(profile.rankings),
        "stages": len(result.stages),
        "elected": len(result.elected),
        "ok": len(result.elected) == 7,
    }


def run() -> list[dict[str, Any]]:
    return [bench_stv(), bench_tally()]
