"""Queue and send messages to members, respecting consent and contact preference."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from union.models import (
    ContactPreference,
    Member,
    Notification,
    NotificationStatus,
    RoleAssignment,
)
from union.notifications import messages
from union.notifications.sms import SmsError, get_backend

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


def notify_members(*, kind: str, messages_for: list[tuple[Member, str, dict[str, Any]]]) -> int:
    """notify_member for many (member, dedupe_key, context) at once: one query skips those
    already in the outbox, one bulk insert adds the rest (a row made meanwhile by another
    run wins, as with notify_member), and each new pending row is sent after commit.
    Returns how many rows were new."""
    keys = [key for _member, key, _context in messages_for]
    done = set(
        Notification.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True)
    )
    rows = []
    for member, key, context in messages_for:
        if key in done:
            continue
        done.add(key)
        channel = choose_channel(member)
        subject, body = messages.render(kind, member.preferred_language, context)
        rows.append(
            Notification(
                member=member,
                kind=kind,
                channel=channel,
                subject=subject,
                body=body,
                dedupe_key=key,
                status=NotificationStatus.PENDING if channel else NotificationStatus.SUPPRESSED,
            )
        )
    if not rows:
        return 0
    with transaction.atomic():
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        pending = list(
            Notification.objects.filter(
                dedupe_key__in=[row.dedupe_key for row in rows],
                status=NotificationStatus.PENDING,
                attempts=0,
            ).values_list("pk", flat=True)
        )
    from union.tasks import queue_notifications

    # Sending twice is harmless (claim() lets one through). robust: the rows are committed
    # by then, so a broker that is down must not turn the caller's success (an approval,
    # with its one-time code on screen) into an error page; the sweeper sends them later.
    # A function, not a partial: Django names a failing robust callback by its __qualname__.
    def send_after_commit() -> None:
        queue_notifications(pending)

    transaction.on_commit(send_after_commit, robust=True)
    return len(rows)


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
    """
    now = timezone.now()
    claimed = Notification.objects.filter(
        Q(status=NotificationStatus.PENDING)
        | Q(status=NotificationStatus.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT),
        pk=notification_id,
        attempts__lt=MAX_ATTEMPTS,
    ).update(status=NotificationStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if not claimed:
        return None
    return Notification.objects.select_related("member").get(pk=notification_id)


def deliver(notification_id: int) -> bool:
    """Send one outbox row. Returns True if it was sent now; safe to call any number of times."""
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


def due_for_resend(limit: int = 500) -> list[int]:
    """Ids the sweeper should hand to workers: pending rows, and claims that went stale."""
    now = timezone.now()
    return list(
        Notification.objects.filter(
            Q(status=NotificationStatus.PENDING, created_at__lt=now - QUEUE_TIMEOUT)
            | Q(status=NotificationStatus.SENDING, claimed_at__lt=now - CLAIM_TIMEOUT),
            attempts__lt=MAX_ATTEMPTS,
        )
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
