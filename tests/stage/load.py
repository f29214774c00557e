"""Traffic for the stage: page views, signed-in pages and Stripe deliveries through nginx.

Bounded in count and time, to 127.0.0.1 only. Each request's outcome is kept with the
moment it was sent, so a drill can tell what failed while a part was down and what
failed after it came back.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import random
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field

from tests.dues import stripe_events
from tests.stage.client import Browser
from tests.stage.cluster import STRIPE_WEBHOOK_SECRET, Stage

WEBHOOK = "/dues/stripe/webhook/"


def signed(payload: bytes, secret: str = STRIPE_WEBHOOK_SECRET) -> str:
    t = int(time.time())
    digest = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def card_events(
    tag: str, count: int, duplicates: float = 0.10, seed: int = 7, first: int = 0
) -> list[bytes]:
    """`count` checkout.session.completed events for the tag's members (cus_TAG_i from
    i = first, 1,000 XOF each), plus `duplicates` of them delivered again, shuffled."""
    bodies = [
        json.dumps(
            stripe_events.checkout_completed(
                f"evt_{tag}_{i}",
                session=f"cs_{tag}_{i}",
                customer=f"cus_{tag}_{i}",
                amount=1000,
                payment_intent=f"pi_{tag}_{i}",
            )
        ).encode()
        for i in range(first, first + count)
    ]
    rng = random.Random(seed)
    deliveries = bodies + [rng.choice(bodies) for _ in range(round(count * duplicates))]
    rng.shuffle(deliveries)
    return deliveries


@dataclass
class Outcome:
    at: float  # seconds since the load started
    kind: str
    status: int  # 0: no HTTP answer
    ms: float


@dataclass
class Load:
    """Clients in threads, each a browser through nginx, until stop() or `seconds`."""

    stage: Stage
    clients: int = 6
    seconds: float = 120
    think: float = 0.05
    member_logins: list[tuple[str, str]] = field(default_factory=list)
    events: list[bytes] = field(default_factory=list)
    pages: tuple[str, ...] = ("/en/", "/fr/", "/join/", "/account/login/")
    outcomes: list[Outcome] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _queue: deque[bytes] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    started: float = 0.0

    def start(self) -> Load:
        self._queue = deque(self.events)
        self.started = time.monotonic()
        for n in range(self.clients):
            thread = threading.Thread(target=self._client, args=(n,), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> Load:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=90)
        return self

    def now(self) -> float:
        return time.monotonic() - self.started

    def _next_event(self) -> bytes | None:
        with self._lock:
            return self._queue.popleft() if self._queue else None

    @property
    def undelivered(self) -> int:
        """Stripe deliveries not yet answered with a 200 (Stripe would send them again)."""
        return len(self._queue)

    def _client(self, n: int) -> None:
        browser = Browser(self.stage)
        signed_in = False
        if self.member_logins:
            username, password = self.member_logins[n % len(self.member_logins)]
            signed_in = browser.login(username, password).status == 302
        kinds = itertools.cycle(["page", "member", "webhook", "page"])
        deadline = self.started + self.seconds
        while not self._stop.is_set() and time.monotonic() < deadline:
            kind = next(kinds)
            started = time.monotonic()
            body: bytes | None = None
            try:
                if kind == "webhook":
                    body = self._next_event()
                    if body is None:
                        continue
                    response = browser.request(
                        "POST",
                        WEBHOOK,
                        body,
                        {"Content-Type": "application/json", "Stripe-Signature": signed(body)},
                    )
                    status = response.status
                    if status != 200:
                        # Stripe delivers again later until it gets a 2xx: so do we.
                        with self._lock:
                            self._queue.append(body)
                elif kind == "member" and signed_in:
                    status = browser.get("/account/").status
                else:
                    status = browser.get(random.choice(self.pages)).status
            except OSError:
                status = 0
                browser.close()
                if body is not None:
                    with self._lock:
                        self._queue.append(body)
            elapsed = time.monotonic() - started
            with self._lock:
                self.outcomes.append(Outcome(started - self.started, kind, status, elapsed * 1000))
            time.sleep(self.think)

    def summary(self, since: float = 0, until: float = float("inf")) -> Counter[str]:
        counts: Counter[str] = Counter()
        for o in self.outcomes:
            if since <= o.at < until:
                counts["no answer" if o.status == 0 else str(o.status)] += 1
        return counts
