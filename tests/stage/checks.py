"""`make stage-test`: in the production shape, nothing depends on the node a request lands on.

    .venv/bin/python -m tests.stage.checks          # starts its own stage, ~4 minutes

Each check prints what it did and what came back:
- sessions and CSRF: signed in through node A, the next pages and a form post on node B;
- an import previewed on node A is confirmed on node B (the pending file is in the shared
  private storage, the pending state in the shared session);
- an image's rendition made by node A (rendering a page) is served by node B and nginx;
- the cache is shared: what node A cached, node B finds in Redis;
- login lockouts are shared: failures on A and B add up, and lock on both;
- one beat: each minute's periodic job ran exactly once across the two workers;
- the outbox sweeper, run on both workers at once, sends each message once.

Exit status 1 if any check failed. No timing is asserted anywhere.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from tests.stage.client import Browser
from tests.stage.cluster import WORKERS, Stage


@dataclass
class Result:
    name: str
    ok: bool
    detail: str


def shell(stage: Stage, code: str, node: str = "admin") -> Any:
    """Run Python in a Django shell with the stage's settings; its last line is JSON."""
    import subprocess
    import sys as _sys

    from tests.stage.cluster import REPO

    out = subprocess.run(
        [_sys.executable, "manage.py", "shell", "-c", code],
        cwd=REPO,
        env=stage.node_env(node),
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    ).stdout
    lines = [line for line in out.splitlines() if line.strip()]
    return json.loads(lines[-1]) if lines else {}


def check_sessions(stage: Stage) -> Result:
    secretary = stage.login_for("Secretary")
    browser = Browser(stage, node="web-a")
    signed_in = browser.login(secretary.username, secretary.password, secretary.totp_key)
    on_a = browser.get("/office/members/").status
    on_b = browser.via("web-b").get("/office/members/").status
    via_nginx = browser.via(None).get("/office/members/").status
    # A form on node B with the token node A set: CSRF is signed with the shared key.
    logout = browser.via("web-b").post("/account/logout/", {})
    after = browser.via("web-a").get("/office/members/")
    ok = (
        signed_in.status == 302
        and (on_a, on_b, via_nginx) == (200, 200, 200)
        and logout.status == 302
        and after.status == 302
        and "login" in after.location
    )
    return Result(
        "sessions and CSRF across nodes",
        ok,
        f"signed in on A ({signed_in.status}); office list on A {on_a}, B {on_b}, nginx "
        f"{via_nginx}; logout posted on B {logout.status}; then on A: {after.status} to login",
    )


def check_import(stage: Stage) -> Result:
    columns = shell(
        stage,
        "import json; from union.resources import REGISTER_COLUMNS as c; print(json.dumps(c))",
    )
    coordinator = stage.login_for("National coordinator")
    browser = Browser(stage, node="web-a")
    browser.login(coordinator.username, coordinator.password, coordinator.totp_key)
    rows = 25
    values = {
        "working_name": "Stage check {i}",
        "branch": "BKO",
        "status": "active",
        "joined_on": "2026-01-15",
        "number": "STG-{i:04d}",
    }
    assert isinstance(columns, list)
    lines = [",".join(columns)]
    for i in range(rows):
        lines.append(",".join(values.get(col, "").format(i=i) for col in columns))
    data = ("\n".join(lines) + "\n").encode()
    browser.get("/office/import/")
    preview = browser.post(
        "/office/import/", {}, files={"file": ("register.csv", data, "text/csv")}
    )
    token = re.search(r'name="token" value="([^"]+)"', preview.text)
    if preview.status != 200 or not token:
        return Result("import previewed on A, confirmed on B", False, f"preview {preview.status}")
    confirm = browser.via("web-b").post("/office/import/", {"confirm": "1", "token": token[1]})
    page = browser.follow(confirm)
    imported = stage.psql("SELECT count(*) FROM union_member WHERE number LIKE 'STG-%'")
    # The officer's own language (French for the demo's coordinator), either way with 25.
    # French puts a no-break space before the colon.
    told = re.search(rf"(Imported:|Import terminé\s:) {rows} ", page.text)
    ok = confirm.status == 302 and imported == str(rows) and told is not None
    return Result(
        "import previewed on A, confirmed on B",
        ok,
        f"preview on A {preview.status} ({rows} rows), confirm on B {confirm.status}, "
        f"{imported} members in the table; the officer told so on B: {told is not None}",
    )


def check_background_import(stage: Stage, rows: int = 4000) -> Result:
    """A register large enough for the worker: uploaded on A, followed and confirmed on B,
    finished on A; the page and its JSON figures from whichever node."""
    columns = shell(
        stage,
        "import json; from union.resources import REGISTER_COLUMNS as c; print(json.dumps(c))",
    )
    values = {
        "working_name": "Stage background {i}",
        "branch": "BKO",
        "status": "active",
        "joined_on": "2026-01-15",
        "number": "BGI-{i:05d}",
        "notes": "Imported by the stage check, a line long enough to make the file large",
    }
    lines = [",".join(columns)]
    for i in range(rows):
        lines.append(",".join(values.get(col, "").format(i=i) for col in columns))
    data = ("\n".join(lines) + "\n").encode()
    coordinator = stage.login_for("National coordinator")
    browser = Browser(stage, node="web-a")
    browser.login(coordinator.username, coordinator.password, coordinator.totp_key)
    browser.get("/office/import/")
    upload = browser.post("/office/import/", {}, files={"file": ("big.csv", data, "text/csv")})
    page = urlsplit(upload.location).path
    if upload.status != 302 or "/office/import/" not in page:
        return Result("large import in the worker across nodes", False, f"upload {upload.status}")
    seen: list[str] = []

    def status_on(node: str) -> str:
        figures = json.loads(browser.via(node).get(page + "?format=json").body)
        seen.append(f"{node[-1]}:{figures['status']}({figures['checked']}/{figures['written']})")
        return str(figures["status"])

    wait_until(lambda: status_on("web-b") != "checking", timeout=300, step=1)
    preview = browser.via("web-b").get(page)
    confirm = browser.via("web-b").post(page, {"confirm": "1"})
    wait_until(lambda: status_on("web-a") not in ("importing", "previewed"), timeout=300, step=1)
    imported = stage.psql("SELECT count(*) FROM union_member WHERE number LIKE 'BGI-%'")
    ok = (
        len(data) > 256 * 1024
        and preview.status == 200
        and confirm.status == 302
        and imported == str(rows)
        and seen[-1].startswith("a:done")
    )
    return Result(
        "large import in the worker across nodes",
        ok,
        f"{len(data) / 1024:.0f} KiB, {rows} rows uploaded on A; preview on B, confirmed on B "
        f"({confirm.status}); statuses seen {seen[0]} ... {seen[-1]} ({len(seen)} polls); "
        f"{imported} members in the table",
    )


def check_rendition(stage: Stage) -> Result:
    # Start from no renditions and no cached pages, so that node A makes them.
    shell(
        stage,
        "import json; from wagtail.images import get_image_model; from cms import cache;"
        "[r.delete() for i in get_image_model().objects.all() for r in i.renditions.all()];"
        "cache.purge(); print(json.dumps({}))",
    )
    time.sleep(1.2)  # cms.cache re-reads the page generation after a second
    page = Browser(stage, node="web-a").get("/en/")
    paths = sorted(set(re.findall(r'(/media/images/[^"\s]+)', page.text)))
    if not paths:
        return Result(
            "rendition made on A, served by B", False, f"no image on /en/ ({page.status})"
        )
    served = []
    for path in paths[:2]:
        a = Browser(stage, node="web-a").get(path)
        b = Browser(stage, node="web-b").get(path)
        n = Browser(stage).get(path)
        served.append(
            a.status == b.status == n.status == 200
            and a.body == b.body == n.body
            and b.headers.get("content-type", "").startswith("image/")
        )
    name = shell(
        stage,
        "import json; from wagtail.images import get_image_model;"
        "print(json.dumps(get_image_model().objects.first().file.name))",
    )
    browser = Browser(stage)
    original = browser.follow(browser.get(f"/media/{name}"))
    return Result(
        "rendition made on A, served by B",
        all(served) and original.status == 404,
        f"{len(paths)} renditions on /en/ from A; {sum(served)} of {len(served)} identical "
        f"from A, B and nginx; the original upload: {original.status}",
    )


def check_cache(stage: Stage) -> Result:
    import redis

    client = redis.Redis.from_url(stage.redis_url + "/1")
    before = client.dbsize()
    Browser(stage, node="web-a").get("/fr/")
    after = client.dbsize()
    # The same page from B is the cached one: same bytes, without building it again.
    a = Browser(stage, node="web-a").get("/fr/")
    b = Browser(stage, node="web-b").get("/fr/")
    return Result(
        "cache shared through Redis",
        after >= before > 0 and a.body == b.body and a.status == 200,
        f"{after} keys in the cache database; /fr/ from A and B identical: {a.body == b.body}",
    )


def check_lockout(stage: Stage) -> Result:
    member = next(x for x in stage.demo_logins() if x.role == "Member")
    statuses = []
    for attempt in range(5):
        browser = Browser(stage, node="web-a" if attempt % 2 else "web-b", visitor="192.0.2.99")
        browser.get("/account/login/")
        statuses.append(
            browser.post("/account/login/", {"username": member.username, "password": "wrong"})
        )
    right = Browser(stage, node="web-a", visitor="192.0.2.98")
    right.get("/account/login/")
    locked = right.post(
        "/account/login/", {"username": member.username, "password": member.password}
    )
    stage.manage("axes_reset_username", member.username, capture=True)
    return Result(
        "login lockouts shared",
        [s.status for s in statuses] == [200, 200, 200, 200, 429] and locked.status == 429,
        f"5 wrong passwords alternating B/A: {[s.status for s in statuses]} (the fifth locks); "
        f"then the right one on A from another address: {locked.status} (429 = locked)",
    )


def check_one_beat(stage: Stage, minutes: int) -> Result:
    # vote-clock is due every minute. Wait until `minutes` minute boundaries have passed.
    time.sleep(max(0, 61 - time.time() % 60))
    time.sleep(60 * (minutes - 1) + 5)
    runs: Counter[str] = Counter()
    for worker in WORKERS:
        log = (stage.root / "logs" / f"{worker}.log").read_text(errors="replace")
        for match in re.finditer(
            r"\[(\d{4}-\d\d-\d\d \d\d:\d\d):\d\d,\d+: INFO/MainProcess\] "
            r"Task votes\.tasks\.run_vote_clock\[",  # votes/ is an app of its own
            log,
        ):
            runs[match[1]] += 1
    doubled = {minute: n for minute, n in runs.items() if n > 1}
    return Result(
        "one beat: each periodic job once",
        len(runs) >= minutes and not doubled,
        f"vote-clock received in {len(runs)} distinct minutes across {len(WORKERS)} workers; "
        f"minutes with more than one run: {len(doubled)}",
    )


SEED_OUTBOX = """
import json
from datetime import timedelta
from django.utils import timezone
from union.models import (Branch, ContactPreference, Member, MemberStatus, Notification,
    NotificationStatus, RegistrationSource)
from union.services.members import _phone_hash
branch = Branch.objects.get(code="BKO")
members = Member.objects.bulk_create([
    Member(branch=branch, number=f"{prefix}-{i:04d}", working_name=f"Stage outbox {i}",
           status=MemberStatus.ACTIVE, joined_on=timezone.now().date(),
           source=RegistrationSource.IMPORT, phone=f"+2237{phone_base + i:07d}",
           phone_hash=_phone_hash(f"+2237{phone_base + i:07d}"),
           contact_preference=ContactPreference.SMS, consent_sms=True)
    for i in range(count)])
rows = Notification.objects.bulk_create([
    Notification(member=m, kind="stage_check", channel="sms", subject="",
                 body=f"{prefix} message {m.number}", dedupe_key=f"{prefix}:{m.pk}",
                 status=NotificationStatus.PENDING)
    for m in members])
# As if written before the broker lost their tasks: old enough for the sweeper.
Notification.objects.filter(pk__in=[r.pk for r in rows]).update(
    created_at=timezone.now() - timedelta(minutes=5))
print(json.dumps({"members": len(members), "rows": len(rows)}))
"""


def seed_outbox(stage: Stage, *, prefix: str, count: int, phone_base: int) -> dict[str, object]:
    """`count` members who agreed to texts, each with one pending message whose task the
    broker lost (so only the sweeper can send it). Texts read "PREFIX message NUMBER"."""
    values = f"prefix = {prefix!r}; count = {count}; phone_base = {phone_base}\n"
    return shell(stage, values + SEED_OUTBOX)


def sms_counts(stage: Stage, marker: str) -> Counter[str]:
    """How many texts were written per body containing `marker`, across every machine."""
    counts: Counter[str] = Counter()
    for folder in stage.sms_dirs():
        for path in folder.glob("*.json") if folder.exists() else []:
            body = json.loads(path.read_text()).get("body", "")
            if marker in body:
                counts[body] += 1
    return counts


def wait_until(condition: Callable[[], bool], timeout: float, step: float = 2) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def check_sweeper(stage: Stage, count: int = 200) -> Result:
    seeded = seed_outbox(stage, prefix="SWP", count=count, phone_base=1_000_000)
    # Four sweeps at once: both workers hand out every row, several times over.
    shell(
        stage,
        "import json; from union.tasks import sweep_notifications\n"
        "[sweep_notifications.delay() for _ in range(4)]; print(json.dumps({}))",
    )

    def sent() -> int:
        return int(
            stage.psql(
                "SELECT count(*) FROM union_notification WHERE kind = 'stage_check' "
                "AND status = 'sent'"
            )
        )

    wait_until(lambda: sent() >= count, timeout=180)
    texts = sms_counts(stage, "SWP message")
    doubled = sum(1 for n in texts.values() if n > 1)
    ok = sent() == count and len(texts) == count and doubled == 0
    return Result(
        "outbox sweeper on two workers sends each message once",
        ok,
        f"{seeded.get('rows')} pending rows, 4 sweeps across {len(WORKERS)} workers: "
        f"{sent()} marked sent, {len(texts)} distinct texts written, {doubled} doubled, "
        f"{count - len(texts)} lost",
    )


CHECKS: dict[str, Callable[[Stage], Result]] = {
    "sessions": check_sessions,
    "import": check_import,
    "background-import": check_background_import,
    "rendition": check_rendition,
    "cache": check_cache,
    "lockout": check_lockout,
    "sweeper": check_sweeper,
    "beat": lambda stage: check_one_beat(stage, minutes=2),
}


def run(stage: Stage, only: list[str]) -> list[Result]:
    results = []
    for name in only:
        try:
            result = CHECKS[name](stage)
        except Exception as exc:  # one broken check must not hide the others' figures
            result = Result(name, False, f"error: {type(exc).__name__}: {exc}")
        print(f"{'PASS' if result.ok else 'FAIL'}  {result.name}: {result.detail}", flush=True)
        results.append(result)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.stage.checks")
    parser.add_argument("--only", default=",".join(CHECKS), help=",".join(CHECKS))
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    only = [name.strip() for name in args.only.split(",") if name.strip()]
    with Stage.start(keep=args.keep) as stage:
        results = run(stage, only)
    failed = [r.name for r in results if not r.ok]
    print(f"\n{len(results) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
