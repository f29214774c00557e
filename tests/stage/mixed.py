"""A union's mixed traffic through nginx, at several concurrencies, on one web node and two.

Per 20 requests: 7 public pages (home, news, join form, in English and French), 6 pages of
signed-in members (their account, their dues, the votes open to them), 2 counter payments
recorded by a treasurer (each with its own receipt number: a real booking, a ledger row,
an audit row and a receipt message), 3 Stripe webhook deliveries (new payments, 10 %
repeats) and 2 ballots cast (the final POST of the ballot form, by members of an open
election, each signed in with a session of their own and voting once: the ballot sealed
to the vote's key, its receipt hashed, the voter marked). Casting is also measured on its
own, against its baseline, by tests/bench/votes.py.

Each level runs for a fixed time from keep-alive TLS clients (threads; the client shares
the machine's two cores with everything it measures). "One node": web-b stopped, nginx
sends everything to web-a.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

from tests.bench import server as bench_server
from tests.stage.bench import CSRF_TOKEN, Results, Row, webhook_requests
from tests.stage.client import Browser
from tests.stage.cluster import REPO, Stage, log
from tests.stage.load import card_events

PUBLIC = ("/en/", "/fr/", "/join/", "/en/news/", "/fr/actualites/")
MEMBER = ("/account/", "/dues/my/", "/votes/")
# 20 slots: P public, M member, C counter payment, W webhook, V a ballot cast
PATTERN = "PPMPWPMCPMVWPMVCMPWM"


def _classify(status: int, body: bytes) -> str:
    return "ok" if status in (200, 302) else f"HTTP {status}"


def _members_to_pay(stage: Stage, count: int) -> list[str]:
    code = (
        "import json; from union.models import Member;"
        "print(json.dumps([str(p) for p in Member.objects.filter(branch__code='BKO',"
        f"status='active').order_by('pk').values_list('public_id', flat=True)[:{count}]]))"
    )
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=REPO,
        env=stage.node_env("admin"),
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _cookie(browser: Browser) -> str:
    return f"sessionid={browser.cookies['sessionid']}; csrftoken={CSRF_TOKEN}"


def _ballots(vote: str) -> int:
    """Sealed ballots in the vote now (this process is a node of the stage: bench.py)."""
    from votes.models import SealedBallot

    return SealedBallot.objects.filter(vote__public_id=vote).count()


def _seed_election(stage: Stage, voters: int) -> tuple[str, list[str]]:
    """An open election (tellers' sheets made, as tests/bench/votes.py makes it) with
    `voters` members signed in: the vote's public id and each voter's session key."""
    code = f"""
import json
from tests.bench.votes import _open_election, _voters
branch, officer, voters = _voters({voters})
vote, _sheets = _open_election(branch, officer)
print(json.dumps({{"vote": str(vote.public_id), "keys": [key for _pk, key in voters]}}))
"""
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=REPO,
        env=stage.node_env("admin"),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode:
        raise RuntimeError(f"seeding the election failed:\n{done.stderr[-2000:]}")
    made = json.loads(done.stdout.strip().splitlines()[-1])
    return str(made["vote"]), list(made["keys"])


def _requests(
    stage: Stage, total: int, round_: int, customers: int, vote: str, voter_keys: list[str]
) -> list[bench_server.Request]:
    host = f"127.0.0.1:{stage.https_port}"
    members = [x for x in stage.demo_logins() if x.role == "Member"][:8]
    sessions = []
    for login in members:
        browser = Browser(stage)
        if browser.login(login.username, login.password).status == 302:
            sessions.append(_cookie(browser))
    treasurer = next(x for x in stage.demo_logins() if x.role == "Treasurer")  # Bamako's
    browser = Browser(stage)
    browser.login(treasurer.username, treasurer.password, treasurer.totp_key)
    counter_cookie = _cookie(browser)
    payers = _members_to_pay(stage, 50)
    distinct = min(customers, int(total * PATTERN.count("W") / len(PATTERN) / 1.1) + 1)
    hooks = webhook_requests(stage, card_events("MX", distinct, first=round_ * 100_000))
    hook_iter = iter(hooks)
    public = itertools.cycle(PUBLIC)
    member_pages = itertools.cycle(MEMBER)
    today = datetime.now(UTC).date().isoformat()
    voter_keys = voter_keys or [""]
    casting = itertools.count()
    requests: list[bench_server.Request] = []
    for n, slot in zip(range(total), itertools.cycle(PATTERN), strict=False):
        if slot == "P":
            requests.append(bench_server.Request(next(public), b"", {"Host": host}, method="GET"))
        elif slot == "M" and sessions:
            requests.append(
                bench_server.Request(
                    next(member_pages),
                    b"",
                    {"Host": host, "Cookie": sessions[n % len(sessions)]},
                    method="GET",
                )
            )
        elif slot == "C":
            body = (
                f"csrfmiddlewaretoken={CSRF_TOKEN}&amount=1000&method=cash&provider="
                f"&external_id=&receipt_number=MX{round_}N{n}&paid_on={today}"
            ).encode()
            requests.append(
                bench_server.Request(
                    f"/dues/office/members/{payers[n % len(payers)]}/pay/",
                    body,
                    {
                        "Host": host,
                        "Cookie": counter_cookie,
                        "Origin": stage.origin,
                        "Content-Type": "application/x-www-form-urlencoded",
                    },
                )
            )
        elif slot == "V":
            # Each voter once: a voter who comes round again gets "already voted" (the
            # list is longer than any level sends, so that only happens at its end).
            key = voter_keys[next(casting) % len(voter_keys)]
            ranking = "%2C".join(str(1 + (n + k) % 5) for k in range(1 + n % 3))
            requests.append(
                bench_server.Request(
                    f"/votes/{vote}/",
                    f"csrfmiddlewaretoken={CSRF_TOKEN}&step=cast&choices={ranking}".encode(),
                    {
                        "Host": host,
                        "Cookie": f"sessionid={key}; csrftoken={CSRF_TOKEN}",
                        "Origin": stage.origin,
                        "Content-Type": "application/x-www-form-urlencoded",
                    },
                )
            )
        else:
            hook = next(hook_iter, None)
            if hook is not None:
                requests.append(hook)
    return requests


def run(stage: Stage, results: Results, *, levels: list[int], seconds: float) -> None:
    # Card events need members with Stripe customers: cus_MX_<round * 100000 + i>.
    results.say("")
    results.say(
        f"== Mixed load through nginx (TLS): {PATTERN.count('P') * 5}% public pages, "
        f"{PATTERN.count('M') * 5}% members' pages, {PATTERN.count('C') * 5}% counter "
        f"payments, {PATTERN.count('W') * 5}% Stripe webhooks, {PATTERN.count('V') * 5}% "
        f"ballots cast; {seconds:.0f} s per level =="
    )
    results.say(
        f"   {'shape':<10}{'clients':>8}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'errors':>8}  outcomes"
    )
    per_round = 4000
    rounds = 2 * len(levels)
    _seed_card_accounts_rounds(stage, rounds, per_round)
    per_round_voters = 1500
    vote, voter_keys = _seed_election(stage, rounds * per_round_voters)
    figures: dict[tuple[str, int], Any] = {}
    round_ = 0
    for shape in ("one node", "two nodes"):
        if shape == "one node":
            stage.stop_process("web-b")
        else:
            stage.start_process("web-b")
            stage.wait_http(node="web-b")
            time.sleep(11)  # nginx's fail_timeout for web-b is over: it is used again
        for clients in levels:
            keys = voter_keys[round_ * per_round_voters : (round_ + 1) * per_round_voters]
            requests = _requests(stage, per_round * 6, round_, per_round, vote, keys)
            ballots_before = _ballots(vote)
            run_ = bench_server.drive(
                stage, requests, clients=clients, classify=_classify, deadline_s=seconds
            )
            ballots = _ballots(vote) - ballots_before
            round_ += 1
            errors = run_.requests - run_.outcomes["ok"]
            figures[(shape, clients)] = run_
            results.say(
                f"   {shape:<10}{clients:>8}{run_.per_second:>9.0f}{run_.percentile(50):>9.1f}"
                f"{run_.percentile(95):>9.1f}{run_.percentile(99):>9.1f}{errors:>8}  "
                f"{dict(run_.outcomes)}, {ballots} ballots cast"
            )
            results.rows.append(
                Row(
                    f"Mixed load, {shape}, {clients} clients",
                    f"{run_.per_second:.0f} req/s, p50 {run_.percentile(50):.0f} ms, "
                    f"p99 {run_.percentile(99):.0f} ms, {errors} errors",
                    "",
                    None,
                    "",
                    None,
                )
            )
    log("mixed load done")


def _seed_card_accounts_rounds(stage: Stage, rounds: int, per_round: int) -> None:
    """Stripe customers cus_MX_<r * 100000 + i> for every round r (one branch per round)."""
    code = f"""
import json
import datetime as dt
from dues.models import DuesAccount
from dues.services import plans
from union.models import Branch, Member, MemberStatus, RegistrationSource
national = Branch.objects.get(is_national=True)
made = 0
for r in range({rounds}):
    branch = Branch.objects.create(code="MX" + chr(65 + r), name=f"Mixed {{r}}", currency="XOF",
                                   parent=national)
    plans.set_dues_plan(actor=None, branch=branch, monthly_amount=1000, solidarity_amount=500,
                        grace_months=24, confirm_threshold=1_000_000)
    members = Member.objects.bulk_create([
        Member(branch=branch, number=f"MX{{r}}-{{i:05d}}", working_name=f"Mixed {{r}} {{i}}",
               status=MemberStatus.ACTIVE, joined_on=dt.date(2025, 1, 1),
               source=RegistrationSource.IMPORT) for i in range({per_round})])
    DuesAccount.objects.bulk_create([
        DuesAccount(member=m, stripe_customer_id=f"cus_MX_{{r * 100000 + i}}",
                    reference=f"MX-{{r}}-{{i}}") for i, m in enumerate(members)])
    made += len(members)
print(json.dumps(made))
"""
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=REPO,
        env=stage.node_env("admin"),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode:
        raise RuntimeError(f"seeding the mixed load failed:\n{done.stderr[-2000:]}")
