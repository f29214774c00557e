"""Queue and send messages to members, respecting consent and contact preference."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from union.crypto import encrypt
from union.models import (
    ContactPreference,
    Member,
    Notification,
    NotificationStatus,
    RoleAssignment,
)
from union.notifications import messages
from union.notifications.sms import SmsError, SmsUncertain, get_backend

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
# A row claimed this long ago whose worker died is handed out again by the sweeper. Longer
# than send_notification's hard time limit, so that a send still running is never doubled.
CLAIM_TIMEOUT = timedelta(seconds=settings.OUTBOX_CLAIM_TIMEOUT)
# A pending row this old whose task never ran (the broker lost it) is queued again.
QUEUE_TIMEOUT = timedelta(minutes=1)


def choose_channel(member: Member) -> str:
    """The channel a member asked for, or "" when there is no consent or no address.

    SMS needs both the preference and the explicit SMS consent, because a text on a
    shared phone can out someone. Phone calls are made by people, not by this system.
    """
    pref = member.contact_preference
    if pref == ContactPreference.SMS and member.consent_sms and member.phone:
        return "sms"
    if pref == ContactPreference.EMAIL and member.email:
        return "email"
    return ""


def notify_member(
    *, member: Member, kind: str, dedupe_key: str, context: dict[str, Any]
) -> Notification:
    """Put a message in the outbox once per dedupe_key and send it after commit.

    A member who cannot or did not agree to be reached gets a SUPPRESSED row (so the
    office can see that they must be told in person) and nothing is sent. Returns the row
    (the first one, if this key was used before).
    """
    notify_members(kind=kind, messages_for=[(member, dedupe_key, context)])
    return Notification.objects.get(dedupe_key=dedupe_key)


def notify_members(
    *, kind: str, messages_for: list[tuple[Member, str, dict[str, Any]]], fresh: bool = False
) -> int:
    """notify_member for many (member, dedupe_key, context) at once: one query skips those
    already in the outbox (left out when the caller knows its keys are new, `fresh`), one
    insert adds the rest (a row made meanwhile by another run wins, as with
    notify_member), and each new pending row is sent after commit. Returns how many rows
    were new."""
    wanted: dict[str, tuple[Member, dict[str, Any]]] = {}
    for member, key, context in messages_for:
        wanted.setdefault(key, (member, context))
    if not fresh:
        for key in Notification.objects.filter(dedupe_key__in=list(wanted)).values_list(
            "dedupe_key", flat=True
        ):
            del wanted[key]
    if not wanted:
        return 0
    insert = _insert_sql if connection.vendor == "postgresql" else _insert_orm
    with transaction.atomic():
        new, pending = insert(kind, _rendered(kind, wanted))
    from union.tasks import queue_notifications

    # Sending twice is harmless (claim() lets one through). robust: the rows are committed
    # by then, so a broker that is down must not turn the caller's success (an approval,
    # with its one-time code on screen) into an error page; the sweeper sends them later.
    # A function, not a partial: Django names a failing robust callback by its __qualname__.
    def send_after_commit() -> None:
        queue_notifications(pending)

    if pending:
        transaction.on_commit(send_after_commit, robust=True)
    return new


class _Row(NamedTuple):
    member_id: int
    channel: str
    subject: str
    body: str
    dedupe_key: str
    status: str


def _rendered(kind: str, wanted: dict[str, tuple[Member, dict[str, Any]]]) -> list[_Row]:
    """The rows to insert, rendered with each language switched on once, not per row. An
    SMS has no subject, so none is stored (one encryption less per text)."""
    by_language: dict[str, list[str]] = {}
    for key, (member, _context) in wanted.items():
        by_language.setdefault(member.preferred_language, []).append(key)
    rows = []
    for language, keys in by_language.items():
        texts = messages.render_many(kind, language, [wanted[key][1] for key in keys])
        for key, (subject, body) in zip(keys, texts, strict=True):
            member = wanted[key][0]
            channel = choose_channel(member)
            status = NotificationStatus.PENDING if channel else NotificationStatus.SUPPRESSED
            subject = "" if channel == "sms" else subject
            rows.append(_Row(member.pk, channel, subject, body, key, status))
    return rows


_INSERT_SQL = f"""
INSERT INTO {Notification._meta.db_table} (member_id, kind, channel, subject, body, dedupe_key,
    status, attempts, created_at, provider_ref, last_error)
SELECT r.member_id, %(kind)s, r.channel, r.subject, r.body, r.dedupe_key, r.status, 0,
       %(now)s, '', ''
FROM unnest(%(member)s::bigint[], %(channel)s::text[], %(subject)s::text[], %(body)s::text[],
            %(key)s::text[], %(status)s::text[]) WITH ORDINALITY
     AS r(member_id, channel, subject, body, dedupe_key, status, n)
ORDER BY r.n
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id, status
"""  # noqa: S608 (the table name is the model's)


def _insert_sql(kind: str, rows: list[_Row]) -> tuple[int, list[int]]:
    """One statement for any number of rows (PostgreSQL). Returns how many were new and
    the new pending rows' ids."""
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT_SQL,
            {
                "kind": kind,
                "now": timezone.now(),
                "member": [r.member_id for r in rows],
                "channel": [r.channel for r in rows],
                "subject": [encrypt(r.subject) if r.subject else "" for r in rows],
                "body": [encrypt(r.body) for r in rows],
                "key": [r.dedupe_key for r in rows],
                "status": [r.status for r in rows],
            },
        )
        new = cursor.fetchall()
    return len(new), [pk for pk, status in new if status == NotificationStatus.PENDING]


def _insert_orm(kind: str, rows: list[_Row]) -> tuple[int, list[int]]:
    """The same through the ORM (SQLite, one writer at a time)."""
    Notification.objects.bulk_create(
        [
            Notification(
                member_id=r.member_id,
                kind=kind,
                channel=r.channel,
                subject=r.subject,
                body=r.body,
                dedupe_key=r.dedupe_key,
                status=r.status,
            )
            for r in rows
        ],
        ignore_conflicts=True,
    )
    pending = Notification.objects.filter(
        dedupe_key__in=[r.dedupe_key for r in rows],
        status=NotificationStatus.PENDING,
        attempts=0,
    ).values_list("pk", flat=True)
    return len(rows), list(pending)


def tell_officers(
    *, queue: str, branch_id: int, perm: str, about: str, exclude_user_id: int | None = None
) -> int:
    """Tell the officers who hold `perm` for the branch (there, or nationally) that
    something waits for them in the office queue `queue`: once per item (`about`, an
    opaque id) and officer, by the way each chose (union.notifications.choose_channel;
    officers who chose none get a suppressed row and see it on their office home).
    Returns how many were newly told."""
    from union.permissions import GRANTS

    roles = [role for role, perms in GRANTS.items() if perm in perms]
    officers = Member.objects.filter(
        pk__in=RoleAssignment.objects.current()
        .filter(role__in=roles)
        .filter(Q(branch_id=branch_id) | Q(branch__is_national=True))
        .values("member_id"),
        user__isnull=False,
    )
    if exclude_user_id is not None:
        officers = officers.exclude(user_id=exclude_user_id)
    return notify_members(
        kind="office_waiting",
        messages_for=[
            (officer, f"waiting:{queue}:{about}:{officer.pk}", {"queue": queue})
            for officer in officers
        ],
    )


def claim(notification_id: int) -> Notification | None:
    """Take a pending row for sending; None if another worker has it or it is done.

    A conditional UPDATE, so two workers (a retry and the sweeper, say) never both send.
    A stale email claim may be taken over; a stale SMS claim never is (the worker may
    have died after the provider took the text): the sweeper has it reconciled instead.
    """
    now = timezone.now()
    claimed = Notification.objects.filter(
        Q(status=NotificationStatus.PENDING)
        | Q(
            ~Q(channel="sms"),
            status=NotificationStatus.SENDING,
            claimed_at__lt=now - CLAIM_TIMEOUT,
        ),
        pk=notification_id,
        attempts__lt=MAX_ATTEMPTS,
    ).update(status=NotificationStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return None
    return Notification.objects.select_related("member").get(pk=notification_id)


def deliver(notification_id: int) -> bool:
    """Send one outbox row. Returns True if it was sent now; safe to call any number of times.

    Raises SmsError/OSError when nothing left, so the task retries. A send whose outcome
    is unknown (the provider may have accepted it, its answer was lost) is not retried:
    the row becomes UNCERTAIN and `reconcile` asks the provider before anything is resent,
    since a retry would send the message twice.
    """
    notification = claim(notification_id)
    if notification is None:
        return False
    member = notification.member
    try:
        if notification.channel == "sms":
            ref = get_backend().send(to=member.phone, body=notification.body)
        else:
            EmailMessage(
                subject=notification.subject, body=notification.body, to=[member.email]
            ).send()
            ref = ""
    except SmsUncertain as exc:
        Notification.objects.filter(pk=notification.pk, status=NotificationStatus.SENDING).update(
            status=NotificationStatus.UNCERTAIN, sent_at=timezone.now(), last_error=str(exc)[:200]
        )
        log.warning("outbox: message %s handed over, outcome unknown (%s)", notification.pk, exc)
        return False
    except (SmsError, OSError) as exc:
        failed = notification.attempts >= MAX_ATTEMPTS
        Notification.objects.filter(pk=notification.pk).update(
            status=NotificationStatus.FAILED if failed else NotificationStatus.PENDING,
            last_error=str(exc)[:200] if isinstance(exc, SmsError) else type(exc).__name__,
        )
        raise
    Notification.objects.filter(pk=notification.pk).update(
        status=NotificationStatus.SENT, sent_at=timezone.now(), provider_ref=ref[:100]
    )
    return True


def reconcile(notification_id: int) -> str:
    """Settle an UNCERTAIN send by asking the provider. Returns what was decided:
    "sent" (the provider has it: its reference is stored, nothing is resent), "resend"
    (the provider has no such message: the row is pending again and queued), "unknown"
    (the provider cannot say: the row stays uncertain and is never resent by itself),
    or "" when another worker holds the row or it is no longer uncertain."""
    backend = get_backend()
    # Claimed with a conditional UPDATE, so two reconcilers never both resend.
    taken = Notification.objects.filter(
        pk=notification_id, status=NotificationStatus.UNCERTAIN, channel="sms"
    ).update(status=NotificationStatus.SENDING, claimed_at=timezone.now())
    if not taken:
        return ""
    notification = Notification.objects.select_related("member").get(pk=notification_id)
    since = notification.sent_at or notification.created_at
    try:
        ref = backend.find(to=notification.member.phone, body=notification.body, since=since)
    except SmsUncertain:
        Notification.objects.filter(pk=notification_id).update(status=NotificationStatus.UNCERTAIN)
        return "unknown"
    if ref is not None:
        Notification.objects.filter(pk=notification_id).update(
            status=NotificationStatus.SENT, provider_ref=ref[:100], last_error=""
        )
        return "sent"
    Notification.objects.filter(pk=notification_id).update(status=NotificationStatus.PENDING)
    from union.tasks import queue_notifications

    transaction.on_commit(lambda: queue_notifications([notification_id]), robust=True)
    return "resend"


def due_for_reconcile(limit: int = 10) -> list[int]:
    """Uncertain sends the provider can be asked about, a minute after the fact (its
    records catch up) and for a day (after that, resending would not help anyone)."""
    if not get_backend().can_find:
        return []
    now = timezone.now()
    return list(
        Notification.objects.filter(
            status=NotificationStatus.UNCERTAIN,
            sent_at__lt=now - QUEUE_TIMEOUT,
            sent_at__gt=now - timedelta(days=1),
        )
        .order_by("sent_at")
        .values_list("pk", flat=True)[:limit]
    )


def due_for_resend(limit: int = 500) -> list[int]:
    """Ids the sweeper should hand to workers: pending rows, and email claims that went
    stale. A stale SMS claim (its worker died, maybe after the provider took the text)
    becomes UNCERTAIN here, for `reconcile`."""
    now = timezone.now()
    Notification.objects.filter(
        status=NotificationStatus.SENDING, channel="sms", claimed_at__lt=now - CLAIM_TIMEOUT
    ).update(
        status=NotificationStatus.UNCERTAIN,
        sent_at=Coalesce(F("sent_at"), F("claimed_at")),
        last_error="worker-lost",
    )
    return list(
        Notification.objects.filter(
            Q(status=NotificationStatus.PENDING, created_at__lt=now - QUEUE_TIMEOUT)
            | Q(status=NotificationStatus.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT),
            attempts__lt=MAX_ATTEMPTS,
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
