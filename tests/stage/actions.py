"""What officers and Stripe do during a drill, run as one more Django process of the stage.

    python -m tests.stage.actions seed   --tag DR1 --members 120 --applicants 40
    python -m tests.stage.actions record --tag DR1 --payments 60 --approvals 40 --seconds 20
    python -m tests.stage.actions tally  --tag DR1

Started by tests/stage/drill.py with the stage's environment (through pgbouncer, on the
stage's Redis). Each prints one JSON line.

- seed: a branch of its own (code TAG) with a dues plan, a treasurer and a secretary,
  members who agreed to texts and owe last month (each with a Stripe customer), and
  applicants waiting for approval.
- record: counter payments (one receipt number each), approvals and the month's
  reminders, spread over SECONDS, through the services the screens call. An action that
  fails because the database is away is tried again, as an officer would after a 503:
  a payment with the same receipt returns the first entry, an approval already made is
  refused, a reminder has its dedupe key, so a repeat never doubles anything.
- tally: what the database holds for the tag: the messages that must go out (phone and
  text, decrypted), their statuses, payments booked per receipt and per Stripe event,
  and rows that would be half-written (a payment without its audit row or message).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from datetime import date
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "union.settings")


def _setup() -> None:
    import logging

    import django

    django.setup()
    logging.disable(logging.WARNING)  # the broker being away is expected here


def phone(tag: str, i: int) -> str:
    # +223 and eight digits, distinct per tag (for the drills' tags), then the index.
    return f"+2236{sum(map(ord, tag)) % 1000:03d}{i:04d}"


def seed(tag: str, members: int, applicants: int) -> dict[str, Any]:
    from django.contrib.auth import get_user_model

    from dues import money
    from dues.models import DuesAccount
    from dues.services import plans, runs
    from union.models import (
        Branch,
        ContactPreference,
        Member,
        MemberStatus,
        RegistrationSource,
        Role,
        RoleAssignment,
    )
    from union.services.members import _phone_hash

    national = Branch.objects.get(is_national=True)
    branch = Branch.objects.create(
        code=tag, name=f"Drill {tag}", currency="XOF", parent=national, time_zone="UTC"
    )
    plans.set_dues_plan(
        actor=None,
        branch=branch,
        monthly_amount=1000,
        solidarity_amount=500,
        grace_months=24,
        confirm_threshold=1_000_000,
    )
    officer = Member.objects.create(
        branch=branch,
        number=f"{tag}-OFF",
        working_name=f"Drill officer {tag}",
        status=MemberStatus.ACTIVE,
        joined_on=date(2025, 1, 1),
        source=RegistrationSource.IMPORT,
    )
    user = get_user_model().objects.create_user(username=f"{tag.lower()}-officer")
    Member.objects.filter(pk=officer.pk).update(user=user)
    for role in (Role.TREASURER, Role.SECRETARY):
        RoleAssignment.objects.create(
            member=officer, branch=branch, role=role, starts_on=date(2025, 1, 1)
        )

    def person(i: int, status: str) -> Member:
        number = f"{tag}-{i:05d}" if status == MemberStatus.ACTIVE else None
        return Member(
            branch=branch,
            number=number,
            working_name=f"Drill {tag} {i}",
            status=status,
            joined_on=date(2025, 1, 1) if number else None,
            source=RegistrationSource.IMPORT,
            phone=phone(tag, i),
            phone_hash=_phone_hash(phone(tag, i)),
            contact_preference=ContactPreference.SMS,
            consent_sms=True,
            preferred_language="fr" if i % 2 else "en",
        )

    active = Member.objects.bulk_create([person(i, MemberStatus.ACTIVE) for i in range(members)])
    Member.objects.bulk_create(
        [person(members + i, MemberStatus.APPLICANT) for i in range(applicants)]
    )
    DuesAccount.objects.bulk_create(
        [
            DuesAccount(member=m, stripe_customer_id=f"cus_{tag}_{i}", reference=f"{tag}-ref-{i}")
            for i, m in enumerate(active)
        ]
    )
    last_month = money.add_months(money.month_start(money.local_today(branch.time_zone)), -1)
    charged = runs.charge_period(period=last_month, branch=branch).charged
    return {"branch": tag, "members": len(active), "applicants": applicants, "charged": charged}


def _retrying(action: Any, errors: Counter[str], attempts: int = 40) -> Any:
    """Run `action`; while the database is away, wait and try again (as after a 503)."""
    from django.db import InterfaceError, OperationalError, close_old_connections

    for attempt in range(attempts):
        try:
            return action()
        except (OperationalError, InterfaceError) as exc:
            errors[type(exc).__name__] += 1
            close_old_connections()
            from django.db import connection

            connection.close()
            time.sleep(min(0.5 * (attempt + 1), 3))
    raise RuntimeError("database away for too long")


def record(tag: str, payments: int, approvals: int, seconds: float) -> dict[str, Any]:
    from django.core.exceptions import ValidationError
    from django.utils import timezone

    from dues.models import Method
    from dues.services import ledger, runs
    from union.models import Branch, Member, MemberStatus
    from union.services.members import approve_applicant

    errors: Counter[str] = Counter()

    def who() -> tuple[Branch, Any, list[Member], list[Member]]:
        branch = Branch.objects.get(code=tag)
        officer = Member.objects.get(number=f"{tag}-OFF").user
        payers = list(
            Member.objects.filter(branch=branch, status=MemberStatus.ACTIVE)
            .exclude(number=f"{tag}-OFF")
            .order_by("number")[:payments]
        )
        waiting = list(
            Member.objects.filter(branch=branch, status=MemberStatus.APPLICANT).order_by("pk")[
                :approvals
            ]
        )
        return branch, officer, payers, waiting

    # The drill may break the database before this process has read anything (a slow
    # start on a busy machine): the first reads are retried like every action.
    branch, officer, payers, waiting = _retrying(who, errors)
    steps: list[tuple[str, Any]] = [("reminders", None)]
    for i in range(max(len(payers), len(waiting))):
        if i < len(payers):
            steps.append(("payment", (i, payers[i])))
        if i < len(waiting):
            steps.append(("approval", waiting[i]))
    pause = seconds / max(len(steps), 1)
    done: Counter[str] = Counter()
    started = time.monotonic()
    for n, (kind, item) in enumerate(steps):
        if kind == "reminders":
            done["reminders"] += _retrying(
                lambda: runs.queue_reminders(branch=branch, today=timezone.localdate()), errors
            )
        elif kind == "payment":
            i, member = item

            def pay(i: int = i, member: Member = member) -> Any:
                return ledger.record_payment(
                    actor=officer,
                    member=member,
                    amount=1000,
                    currency="XOF",
                    method=Method.CASH,
                    receipt_number=f"{tag}R{i:05d}",
                    paid_on=timezone.localdate(),
                )

            _retrying(pay, errors)
            done["payments"] += 1
        else:

            def approve(member: Member = item) -> bool:
                try:
                    approve_applicant(actor=officer, member=member, create_login=False)
                except ValidationError:  # approved by the try that looked failed
                    return False
                return True

            _retrying(approve, errors)
            done["approvals"] += 1
        # Spread evenly over the window, whatever the database made us wait.
        time.sleep(max(0.0, started + pause * (n + 1) - time.monotonic()))
    return {**done, "db_errors_retried": dict(errors), "seconds": time.monotonic() - started}


def tally(tag: str) -> dict[str, Any]:
    from django.db.models import Count

    from dues.models import EntryKind, LedgerEntry, StripeEvent
    from union.models import AuditEvent, Branch, Notification

    branch = Branch.objects.get(code=tag)
    rows = Notification.objects.filter(member__branch=branch).select_related("member")
    messages = [
        {"to": n.member.phone, "body": n.body, "status": n.status, "kind": n.kind} for n in rows
    ]
    payments = LedgerEntry.objects.filter(branch=branch, kind=EntryKind.PAYMENT)
    per_receipt = (
        payments.exclude(receipt_number="")
        .values("receipt_number")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    card = payments.filter(external_id__startswith=f"pi_{tag}_")
    events = StripeEvent.objects.filter(event_id__startswith=f"evt_{tag}_")
    cash_ids = [
        str(pk) for pk in payments.filter(method="cash").values_list("public_id", flat=True)
    ]
    audited = set(
        AuditEvent.objects.filter(target__in=[f"entry:{pk}" for pk in cash_ids]).values_list(
            "target", flat=True
        )
    )
    receipts = set(
        Notification.objects.filter(kind="dues_payment", member__branch=branch).values_list(
            "dedupe_key", flat=True
        )
    )
    cash_pks = list(payments.filter(method="cash").values_list("pk", flat=True))
    return {
        "messages": messages,
        "statuses": dict(Counter(m["status"] for m in messages)),
        "kinds": dict(Counter(m["kind"] for m in messages)),
        "cash_payments": len(cash_pks),
        "receipts_used_twice": per_receipt,
        "cash_without_audit": len(cash_ids) - len(audited),
        "cash_without_message": sum(1 for pk in cash_pks if f"dues-payment:{pk}" not in receipts),
        "card_payments": card.count(),
        "card_payments_distinct": card.values("external_id").distinct().count(),
        "events_stored": events.count(),
        "events_by_status": dict(Counter(events.values_list("status", flat=True))),
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.stage.actions")
    parser.add_argument("what", choices=["seed", "record", "tally"])
    parser.add_argument("--tag", required=True)
    parser.add_argument("--members", type=int, default=120)
    parser.add_argument("--applicants", type=int, default=40)
    parser.add_argument("--payments", type=int, default=60)
    parser.add_argument("--approvals", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=20)
    args = parser.parse_args()
    _setup()
    if args.what == "seed":
        result = seed(args.tag, args.members, args.applicants)
    elif args.what == "record":
        result = record(args.tag, args.payments, args.approvals, args.seconds)
    else:
        result = tally(args.tag)
    print(json.dumps(result, default=str), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
