"""Dues fixtures. Plans: Bamako and Ségou charge 1 000 XOF a month (500 solidarity rate),
3 grace months, a second officer above 5 000 XOF; Johannesburg R50.00 (5 000 cents).
Bamako takes mobile money through Orange Money and Moov Money; Ségou has no operator.

Stripe is off unless a test asks for `stripe_on`, which sets test keys and stubs
Stripe's HTTP layer (`stripe_http`, a `responses` mock): any request not stubbed fails,
so no test can reach the network.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import responses
from hypothesis.configuration import set_hypothesis_home_dir

from dues import money
from dues.models import DuesPlan
from dues.services import ledger, plans, runs
from union.models import Branch, Member

# Hypothesis keeps caches in .hypothesis/ under the working directory; not in the tree.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "solidaire-hypothesis")

WEBHOOK_SECRET = "whsec_test_solidaire"
MONTHLY = 1000  # XOF
THRESHOLD = 5000  # XOF
JOINED = date(2024, 1, 1)  # members in these tests joined long before the months charged


@pytest.fixture
def bko_plan(bamako: Branch) -> DuesPlan:
    bamako.mobile_money_providers = ["Orange Money", "Moov Money"]
    bamako.save(update_fields=["mobile_money_providers"])
    return plans.set_dues_plan(
        actor=None,
        branch=bamako,
        monthly_amount=MONTHLY,
        solidarity_amount=500,
        grace_months=3,
        confirm_threshold=THRESHOLD,
    )


@pytest.fixture
def seg_plan(segou: Branch) -> DuesPlan:
    return plans.set_dues_plan(
        actor=None,
        branch=segou,
        monthly_amount=MONTHLY,
        solidarity_amount=500,
        confirm_threshold=THRESHOLD,
    )


@pytest.fixture
def jhb_plan(johannesburg: Branch) -> DuesPlan:
    return plans.set_dues_plan(
        actor=None,
        branch=johannesburg,
        monthly_amount=5000,
        solidarity_amount=2500,
        confirm_threshold=50000,
    )


def charge(branch: Branch, *periods: str) -> None:
    """Run the monthly charge for each "YYYY-MM" in `periods`."""
    for period in periods:
        runs.charge_period(period=money.parse_period(period), branch=branch)


def pay(
    officer: Member,
    member: Member,
    amount: int,
    receipt: str,
    *,
    paid_on: date | None = None,
    method: str = "cash",
    **extra: Any,
) -> Any:
    assert officer.user is not None
    return ledger.record_payment(
        actor=officer.user,
        member=member,
        amount=amount,
        currency=member.branch.currency,
        method=method,
        receipt_number=receipt,
        paid_on=paid_on or money.local_today(member.branch.time_zone),
        **extra,
    )


# --- Stripe ---------------------------------------------------------------------------


@pytest.fixture
def stripe_http() -> Iterator[responses.RequestsMock]:
    """Stripe's HTTP layer (it uses `requests`), stubbed: unregistered calls raise."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def stripe_on(settings: Any, stripe_http: responses.RequestsMock) -> responses.RequestsMock:
    settings.STRIPE_SECRET_KEY = "sk_test_solidaire"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_solidaire"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    return stripe_http


def sign(payload: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """A Stripe-Signature header, made the way Stripe makes it: HMAC-SHA256 of "t.payload"."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def stub_list(mock: responses.RequestsMock, path: str, data: list[dict[str, Any]]) -> None:
    mock.add(
        responses.GET,
        re.compile(rf"https://api\.stripe\.com/v1/{path}(\?.*)?$"),
        json={"object": "list", "data": data, "has_more": False, "url": f"/v1/{path}"},
    )


def deliver(client: Any, event: dict[str, Any], **headers: Any) -> Any:
    payload = json.dumps(event).encode()
    return client.post(
        "/dues/stripe/webhook/",
        data=payload,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=headers.pop("signature", None) or sign(payload),
    )
