"""Vote benchmarks. Entry point: run() -> list of result dicts (name, figures, ok).

Needs PostgreSQL (tests/with_services.sh) and a migrated database; it creates its own
branch, members and votes in the database it is given and removes the ballots after.

- tally: a 1,000,000-ballot single-choice tally through the service's GROUP BY vs a raw
  SQL GROUP BY on the same rows (target: at least 0.5x the raw speed).
- stv: Scottish STV over 100,000 random ranked ballots, 20 candidates, 7 seats.
- unseal: the same kind of election as 100,000 sealed ballots: two tellers' sheets open the
  box (the vote's key rebuilt, every ballot opened, written shuffled, the sealed ones
  deleted) and the election is counted, against counting the same ballots stored as
  plaintext, in the same run (target: at least 0.2x the plaintext count's speed).
- casting: N members (default 20,000), signed in, send their final ballot POST to a real
  gunicorn on loopback from 32 concurrent clients, against a hello-world POST on the same
  server in the same run (target: casting at least 0.2x the hello-world POSTs per second).
  Every member submits twice: half cast once (the timed casting rate) and later again,
  half send both POSTs at the same moment from two clients. Every ballot is sealed to the
  vote's key in the request, with one scrypt of its receipt. Then sealed ballots == voted
  marks == members, a sample of receipts finds its sealed ballot, two tellers open the box
  and the count publishes (it refuses if ballots and marks differ), and the same receipts
  find their counted ballots.

Standalone (creates and drops its own test database):

    tests/with_services.sh .venv/bin/python -m tests.bench.votes --only casting --members 20000
"""

from __future__ import annotations

import os
import random
import time
from collections import Counter
from datetime import timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from votes.counting.profile import Profile
from votes.counting.stv import count_stv

TALLY_BALLOTS = 1_000_000
STV_BALLOTS = 100_000
UNSEAL_BALLOTS = 100_000
RECEIPT_SAMPLE = 500  # receipts checked after casting: each costs one slow hash


def _vote(kind: str, options: int, seats: int = 1) -> Any:
    from union.models import Branch, Member, MemberStatus, RegistrationSource
    from votes.models import Vote, VoteOption

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
        seats=seats,
    )
    VoteOption.objects.bulk_create(
        [VoteOption(vote=vote, number=n, label=f"Option {n}") for n in range(1, options + 1)]
    )
    return vote


def bench_tally() -> dict[str, Any]:
    from votes.models import Ballot
    from votes.results import grouped_ballots

    vote = _vote("single", 5)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {Ballot._meta.db_table} (id, vote_id, choices, receipt_hash) "  # noqa: S608
            "SELECT gen_random_uuid(), %s, jsonb_build_array(1 + floor(random() * 5)::int), "
            "md5(g::text || random()::text) || md5(random()::text) "
            "FROM generate_series(1, %s) g",
            [vote.pk, TALLY_BALLOTS],
        )
        cursor.execute(f"ANALYZE {Ballot._meta.db_table}")
    best_service = best_raw = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        ours = grouped_ballots(vote)
        best_service = min(best_service, time.perf_counter() - t)
        t = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT choices, count(*) FROM {Ballot._meta.db_table} "  # noqa: S608
                "WHERE vote_id = %s GROUP BY choices",
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


def _random_rankings(n: int, candidates: int = 20, seed: int = 7) -> list[list[int]]:
    """n rankings of some of the candidates, a few popular ones ranked first more often."""
    rng = random.Random(seed)
    weights = [rng.random() ** 2 for _ in range(candidates)]
    rankings = []
    for _ in range(n):
        pool = list(range(1, candidates + 1))
        ranking = []
        for _place in range(rng.randint(1, candidates)):
            pick = rng.choices(pool, weights=[weights[c - 1] for c in pool])[0]
            pool.remove(pick)
            ranking.append(pick)
        rankings.append(ranking)
    return rankings


def bench_stv() -> dict[str, Any]:
    profile = Profile(candidates=20, seats=7, title="bench")
    for ranking in _random_rankings(STV_BALLOTS):
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


def bench_unseal() -> dict[str, Any]:
    """Open a box of 100,000 sealed ballots with two of three tellers' sheets and count the
    election, against counting the same ballots stored as plaintext."""
    import secrets

    from django.db import transaction

    from votes import sealing
    from votes.models import Ballot, SealedBallot, Vote
    from votes.results import compute_result
    from votes.services.unsealing import unseal_ballots

    rankings = _random_rankings(UNSEAL_BALLOTS)
    t = time.perf_counter()
    plain = _vote("election", 20, seats=7)
    sealed_vote = _vote("election", 20, seats=7)
    sheets = [sealing.new_key_sheet(sealed_vote.public_id) for _ in range(3)]
    key = sealing.make_vote_key(
        public_id=sealed_vote.public_id,
        teller_keys={n: sheet.public_key for n, sheet in enumerate(sheets, start=1)},
        needed=2,
    )
    Vote.objects.filter(pk=sealed_vote.pk).update(public_key=key.public_key)
    box = sealing.sealing_box(key.public_key)
    for start in range(0, UNSEAL_BALLOTS, 5000):
        part = rankings[start : start + 5000]
        SealedBallot.objects.bulk_create(
            [
                SealedBallot(
                    vote=sealed_vote,
                    sealed=sealing.seal_ballot(
                        box, choices=r, counted_receipt=secrets.token_bytes(32), options=20
                    ),
                    lookup=secrets.token_hex(32),
                )
                for r in part
            ]
        )
        Ballot.objects.bulk_create(
            [Ballot(vote=plain, choices=r, receipt_hash=secrets.token_hex(32)) for r in part]
        )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Ballot._meta.db_table}")
        cursor.execute(f"ANALYZE {SealedBallot._meta.db_table}")
    setup_s = time.perf_counter() - t

    plain_s = float("inf")
    for _ in range(2):
        t = time.perf_counter()
        plain_result = compute_result(plain)
        plain_s = min(plain_s, time.perf_counter() - t)

    sealed_vote.refresh_from_db()
    t = time.perf_counter()
    shares = [
        sealing.open_share(
            seed=sheets[n - 1].seed, public_id=sealed_vote.public_id, sealed=key.sealed_shares[n]
        )
        for n in (1, 3)
    ]
    private_key = sealing.recover_vote_key(
        public_id=sealed_vote.public_id, public_key=key.public_key, shares=shares
    )
    with transaction.atomic():
        opened, left = unseal_ballots(sealed_vote, private_key)
    open_s = time.perf_counter() - t
    sealed_result = compute_result(sealed_vote)
    total_s = time.perf_counter() - t
    ratio = plain_s / total_s
    same = (
        sealed_result["totals"] == plain_result["totals"]
        and sealed_result["count"]["stages"][0] == plain_result["count"]["stages"][0]
        and set(sealed_result["elected"]) == set(plain_result["elected"])
    )
    for vote in (plain, sealed_vote):
        Ballot.objects.filter(vote=vote).delete()
    SealedBallot.objects.filter(vote=sealed_vote).delete()
    return {
        "name": "votes: open a box of 100,000 sealed ballots and count (STV, 20 candidates, "
        "7 seats) vs count the same plaintext ballots",
        "setup_s": round(setup_s, 1),
        "plaintext_count_s": round(plain_s, 2),
        "open_box_s": round(open_s, 2),
        "open_box_per_ballot_us": round(open_s / UNSEAL_BALLOTS * 1e6, 1),
        "open_box_and_count_s": round(total_s, 2),
        "speed_vs_plaintext": round(ratio, 3),
        "opened": opened,
        "left_sealed": left,
        "same_result": same,
        "ok": same and opened == UNSEAL_BALLOTS and not left and ratio >= 0.2,
    }


# --- casting over HTTP -----------------------------------------------------------------

CASTING_MEMBERS = 20_000
CASTING_CLIENTS = 32
CASTING_CANDIDATES = 5
CSRF_TOKEN = "BenchCsrfSecret0123456789abcdefg"  # 32 characters: an unmasked CSRF secret


def _voters(n: int, session_cache: Any = None) -> tuple[Any, Any, list[tuple[int, str]]]:
    """A branch of n active members with logins and live sessions, made in bulk.

    Sessions are written straight into the session store (the table, and for cached_db
    the server's cache too), holding what a login and a first page leave in them, rather
    than through n logins: the login form is not what is being measured.
    Returns the branch, an officer who may run its votes, and (member id, session key).
    """
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.models import Session
    from django.utils.crypto import get_random_string

    from tests.bench.data import make_officer
    from union.middleware import SESSION_LANGUAGE_KEY
    from union.models import Branch, Member, MemberStatus, RegistrationSource, Role

    engine = import_module(settings.SESSION_ENGINE)
    if engine.__name__ not in (
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cached_db",
    ):
        raise RuntimeError(f"bench sessions: {settings.SESSION_ENGINE} is not supported")

    national, _ = Branch.objects.get_or_create(
        code="NAT", defaults={"name": "Coordination nationale", "is_national": True}
    )
    branch = Branch.objects.create(code="VOTE", name="Bench voters", parent=national)
    # A national coordinator: runs the branch's votes without being on its roll.
    officer = make_officer(
        branch=national, role=Role.NATIONAL_COORDINATOR, scope=national, number="NAT-VOTE-01"
    )
    User = get_user_model()
    users = User.objects.bulk_create(
        [User(username=f"VOTE-{i:06d}", password=make_password(None)) for i in range(n)],
        batch_size=5000,
    )
    today = timezone.localdate()
    members = Member.objects.bulk_create(
        [
            Member(
                branch=branch,
                number=f"VOTE-{i:06d}",
                working_name=f"Voter {i}",
                status=MemberStatus.ACTIVE,
                joined_on=today,
                source=RegistrationSource.IMPORT,
                user=user,
            )
            for i, user in enumerate(users)
        ],
        batch_size=5000,
    )
    store = engine.SessionStore()
    age = 24 * 3600  # seconds
    expires = timezone.now() + timedelta(seconds=age)
    backend = settings.AUTHENTICATION_BACKENDS[-1]
    sessions = []
    cached = {}
    keys = []
    for user, member in zip(users, members, strict=True):
        key = get_random_string(32, "abcdefghijklmnopqrstuvwxyz0123456789")
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: backend,
            HASH_SESSION_KEY: user.get_session_auth_hash(),
            SESSION_LANGUAGE_KEY: member.preferred_language,  # set by the first page seen
        }
        sessions.append(
            Session(session_key=key, session_data=store.encode(data), expire_date=expires)
        )
        cached[getattr(store, "cache_key_prefix", "") + key] = data
        keys.append(key)
    Session.objects.bulk_create(sessions, batch_size=5000)
    if session_cache is not None and hasattr(store, "cache_key_prefix"):
        items = list(cached.items())
        for start in range(0, len(items), 5000):
            session_cache.set_many(dict(items[start : start + 5000]), timeout=age)
    return branch, officer, [(m.pk, key) for m, key in zip(members, keys, strict=True)]


def _tellers_with_sheets(vote: Any, officer: Any) -> dict[int, str]:
    """Two more tellers beside the officer who made the vote, every sheet made and
    confirmed; returns the words (teller number -> words), which the server keeps nowhere."""
    from tests.bench.data import make_officer
    from union.models import Role
    from votes.services import tellers

    national = officer.branch
    for n in (2, 3):
        teller = make_officer(
            branch=national, role=Role.NATIONAL_BOARD, scope=national, number=f"NAT-TELL-{n}"
        )
        tellers.add_teller(actor=officer.user, vote=vote, member=teller)
    words = {}
    for teller in vote.tellers.select_related("member__user"):
        user = teller.member.user
        sheet = tellers.make_key_sheet(actor=user, vote=vote)
        words[teller.number] = " ".join(sheet.words("english"))
        tellers.confirm_key_sheet(actor=user, vote=vote, words=words[teller.number])
    return words


def _open_election(branch: Any, officer: Any) -> tuple[Any, dict[int, str]]:
    from votes.models import VoteKind
    from votes.services import drafting

    now = timezone.now()
    vote = drafting.create_vote(
        actor=officer.user,
        spec=drafting.VoteSpec(
            kind=VoteKind.ELECTION,
            title="Bench election",
            text="",
            branch=branch,
            opens_at=now - timedelta(minutes=1),
            closes_at=now + timedelta(hours=6),
            seats=2,
        ),
    )
    for n in range(1, CASTING_CANDIDATES + 1):
        drafting.add_option(actor=officer.user, vote=vote, label=f"Candidate {n}")
    words = _tellers_with_sheets(vote, officer)
    drafting.schedule_vote(actor=officer.user, vote=vote)
    vote.refresh_from_db()
    return vote, words


def _classify_cast(status: int, body: bytes) -> str:
    if status == 200 and b'id="receipt-code"' in body:
        return "ballot recorded"
    if status == 200 and b"already voted" in body:
        return "refused: already voted"
    return f"unexpected: HTTP {status}"


def _classify_hello(status: int, body: bytes) -> str:
    return "hello" if status == 200 and body.startswith(b"Hello") else f"unexpected: HTTP {status}"


def _receipt(body: bytes) -> str:
    start = body.index(b'id="receipt-code">') + len(b'id="receipt-code">')
    return body[start : body.index(b"<", start)].decode()


def bench_casting(
    *,
    members: int = CASTING_MEMBERS,
    clients: int = CASTING_CLIENTS,
    workers: int = 4,
    threads: int = 8,  # 32 request threads for 32 clients: none waits in the listen queue
    conn_max_age: int | None = None,  # None: as deployed (docs/deploy.md), kept 60 s
    hello_requests: int | None = None,
    rounds: int = 8,
) -> dict[str, Any]:
    from tests.bench import server as bench_server
    from votes import receipts
    from votes.models import Ballot, SealedBallot, Vote, VoteMark, VoteRoll, VoteStatus
    from votes.services import counting, unsealing

    rng = random.Random(11)
    load_before = os.getloadavg()
    cache_url = bench_server.redis_cache_url()
    session_cache = bench_server.cache_for(cache_url) if cache_url else None
    t = time.perf_counter()
    branch, officer, voters = _voters(members, session_cache)
    vote, sheets = _open_election(branch, officer)
    assert vote.public_key is not None
    setup_s = time.perf_counter() - t
    assert vote.eligible_count == members, vote.eligible_count

    with bench_server.gunicorn(
        workers=workers, threads=threads, conn_max_age=conn_max_age, cache_url=cache_url
    ) as srv:
        base_headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": srv.origin,
            "Host": f"{bench_server.HOST}:{srv.port}",
        }

        def headers(session_key: str) -> dict[str, str]:
            cookie = f"sessionid={session_key}; csrftoken={CSRF_TOKEN}"
            return {**base_headers, "Cookie": cookie}

        # Warm-up, not measured: every worker thread loads the project.
        hello_path = "/bench/hello/"
        hello_body = f"csrfmiddlewaretoken={CSRF_TOKEN}".encode()
        warm = [
            bench_server.Request(hello_path, hello_body, headers(voters[i % members][1]))
            for i in range(20 * clients)
        ]
        bench_server.drive(srv, warm, clients=clients, classify=_classify_hello)

        # The hello-world POST: same server, same clients, same cookies, same CSRF check.
        n_hello = hello_requests or members
        hellos = [
            bench_server.Request(hello_path, hello_body, headers(voters[i % members][1]))
            for i in range(n_hello)
        ]

        # Members in random order, in two halves, and every member submits twice:
        # - "first": one final POST each. Timed against the hello-world: the casting rate.
        # - "double": both POSTs next to each other in the list, so two clients send them
        #   at the same moment (a double tap, two devices racing).
        # - "replay": the first half sends its POST again (the back button, a retry).
        cast_path = f"/votes/{vote.public_id}/"
        order = list(range(members))
        rng.shuffle(order)
        cast_for: dict[int, bench_server.Request] = {}
        for i in order:
            member_id, key = voters[i]
            ranking = rng.sample(range(1, CASTING_CANDIDATES + 1), rng.randint(1, 3))
            body = (
                f"csrfmiddlewaretoken={CSRF_TOKEN}&step=cast&choices="
                + "%2C".join(map(str, ranking))
            ).encode()
            cast_for[i] = bench_server.Request(cast_path, body, headers(key), key=member_id)
        singles = [cast_for[i] for i in order[: members // 2]]
        doubles = [cast_for[i] for i in order[members // 2 :]]

        def part(items: list[Any], r: int) -> list[Any]:
            return items[r * len(items) // rounds : (r + 1) * len(items) // rounds]

        # Taken in turns, slice by slice, so that changes in the machine's load (other
        # jobs) weigh on every side of the ratio alike.
        def recorded(outcome: str) -> bool:
            return outcome == "ballot recorded"

        runs: dict[str, list[bench_server.Run]] = {
            "hello": [],
            "first": [],
            "double": [],
            "replay": [],
        }
        for r in range(rounds):
            for name, slice_, classify in (
                ("hello", part(hellos, r), _classify_hello),
                ("first", part(singles, r), _classify_cast),
                ("double", [req for req in part(doubles, r) for _copy in (1, 2)], _classify_cast),
                ("replay", part(singles, r), _classify_cast),
            ):
                runs[name].append(
                    bench_server.drive(
                        srv, slice_, clients=clients, classify=classify, keep=recorded
                    )
                )
        hello, first, double, replay = (
            bench_server.Run.combine(runs[name]) for name in ("hello", "first", "double", "replay")
        )
        every = (hello, first, double, replay)
        unexpected = [o for run in every for o in run.outcomes if o.startswith("unexpected")]
        server_log = srv.log_tail() if unexpected else ""

    # No double votes: one sealed ballot and one mark per member, whatever was sent.
    ballots = SealedBallot.objects.filter(vote=vote).count()
    marks = VoteMark.objects.filter(vote=vote).count()
    marked_members = VoteMark.objects.filter(vote=vote).values("member").distinct().count()
    roll = VoteRoll.objects.filter(vote=vote).count()
    tagged = [*first.tagged, *double.tagged, *replay.tagged]
    recorded_per_member = Counter(key for key, _o, _b in tagged)
    # Receipts handed out are all different; a sample (one slow hash each) finds exactly
    # its sealed ballot now, and its counted ballot after the count.
    codes = [_receipt(body) for _k, _o, body in tagged]
    salt = bytes(vote.receipt_salt)
    sample = rng.sample(codes, min(RECEIPT_SAMPLE, len(codes)))
    keys = [receipts.receipt_key(code, salt) for code in sample]
    lookups = {receipts.sealed_lookup(key) for key in keys}
    found_sealed = SealedBallot.objects.filter(vote=vote, lookup__in=lookups).count()
    # And the count agrees: it holds the result back if ballots and marks differ.
    Vote.objects.filter(pk=vote.pk).update(closes_at=timezone.now() - timedelta(seconds=1))
    counting.claim_due_closures()
    vote.refresh_from_db()
    t = time.perf_counter()
    status = unsealing.open_ballot_box(
        actor=officer.user, vote=vote, sheets={1: sheets[1], 3: sheets[3]}
    )
    count_s = time.perf_counter() - t
    counted = {receipts.counted_hash(key) for key in keys}
    found_counted = Ballot.objects.filter(vote=vote, receipt_hash__in=counted).count()
    ballots_counted = Ballot.objects.filter(vote=vote).count()

    ratio = first.per_second / hello.per_second if hello.per_second else 0.0
    pairs_per_s = double.requests / 2 / double.seconds if double.seconds else 0.0
    no_double_votes = (
        ballots == marks == marked_members == members == roll
        and len(recorded_per_member) == members
        and set(recorded_per_member.values()) == {1}
        and first.outcomes["ballot recorded"] == len(singles)
        and replay.outcomes["refused: already voted"] == len(singles)
        and double.outcomes["ballot recorded"] == len(doubles)
        and double.outcomes["refused: already voted"] == len(doubles)
        and len(codes) == len(set(codes)) == members
        and found_sealed == found_counted == len(sample)
        and ballots_counted == members
        and status == VoteStatus.PUBLISHED
    )

    def figures(run: bench_server.Run) -> dict[str, Any]:
        return {
            "posts": run.requests,
            "per_s": round(run.per_second, 1),
            "p50_ms": round(run.percentile(50), 1),
            "p95_ms": round(run.percentile(95), 1),
            "p99_ms": round(run.percentile(99), 1),
            "outcomes": dict(run.outcomes),
        }

    return {
        "name": (
            f"votes: casting, {members:,} members each submitting twice, {clients} clients, "
            "vs hello-world POST"
        ),
        "server": srv.description,
        "rounds": f"{rounds} turns of hello / first / double / replay",
        # The machine's load (1 min) before and after: others' work skews timings.
        "load_average": f"{load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after "
        f"({os.cpu_count()} CPUs)",
        "setup_s": round(setup_s, 1),
        "hello": figures(hello),
        "first (1 POST/member)": figures(first),
        "double (2 at once)": {**figures(double), "members_per_s": round(pairs_per_s, 1)},
        "replay (2nd POST)": figures(replay),
        "client_cpu_s": round(sum(run.client_cpu_s for run in every), 1),
        "ratio_casting_vs_hello": round(ratio, 3),
        "ratio_double_members_vs_hello": round(pairs_per_s / hello.per_second, 3)
        if hello.per_second
        else 0.0,
        "ballots": ballots,
        "marks": marks,
        "members": members,
        "receipts_sampled": f"{len(sample)}: {found_sealed} found sealed, "
        f"{found_counted} found counted",
        "count_status": status,
        "open_box_and_count_s": round(count_s, 2),
        "no_double_votes": no_double_votes,
        **({"server_log_tail": server_log} if server_log else {}),
        "ok": no_double_votes and ratio >= 0.2 and not unexpected,
    }


BENCHES = {
    "stv": bench_stv,
    "tally": bench_tally,
    "unseal": bench_unseal,
    "casting": bench_casting,
}


def run(
    *, only: list[str] | None = None, casting_members: int = CASTING_MEMBERS, **casting: Any
) -> list[dict[str, Any]]:
    """Run the vote benchmarks (all, or those named in `only`) in the current database.
    `casting` passes options to bench_casting (clients, workers, threads, conn_max_age...)."""
    results = []
    for name in only or list(BENCHES):
        if name == "casting":
            results.append(bench_casting(members=casting_members, **casting))
        else:
            results.append(BENCHES[name]())
    return results


def report(results: list[dict[str, Any]]) -> list[str]:
    """The results as lines for the benchmark table."""
    lines = ["", "== Votes =="]
    for result in results:
        lines.append(f"-- {result['name']}: {'meets target' if result['ok'] else 'BELOW TARGET'}")
        for key, value in result.items():
            if key not in ("name", "ok"):
                lines.append(f"   {key:<30} {value}")
    return lines


def main() -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tests.bench.votes", description=__doc__)
    parser.add_argument("--only", default="", help="comma-separated: stv,tally,unseal,casting")
    parser.add_argument("--members", type=int, default=CASTING_MEMBERS, help="casting: members")
    parser.add_argument("--clients", type=int, default=CASTING_CLIENTS, help="casting: clients")
    parser.add_argument("--workers", type=int, default=4, help="casting: gunicorn workers")
    parser.add_argument("--threads", type=int, default=8, help="casting: threads per worker")
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=None,
        help="casting: server's CONN_MAX_AGE (s); default as deployed (60)",
    )
    parser.add_argument(
        "--rounds", type=int, default=8, help="casting: turns of hello-world then casting"
    )
    args = parser.parse_args()
    from tests.bench.standalone import fresh_test_database

    with fresh_test_database():
        only = [n.strip() for n in args.only.split(",") if n.strip()] or list(BENCHES)
        results = run(
            only=only,
            casting_members=args.members,
            clients=args.clients,
            workers=args.workers,
            threads=args.threads,
            conn_max_age=args.conn_max_age,
            rounds=args.rounds,
        )
        print("\n".join(report(results)), flush=True)
        return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
