"""The audit trail: who looked at or changed which member, kept for good and free of names.

A member can ask "who has looked at my record?"; the union can answer only if every
view and change leaves a row, and the rows themselves must not become a second
register of names and numbers.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from tests.factories import MemberFactory
from union.models import AuditAction, AuditEvent, Member, MemberStatus, Role, RoleAssignment
from union.services.members import change_member_status


@pytest.fixture
def fanta(bamako) -> Member:
    return MemberFactory(
        branch=bamako,
        working_name="Fanta Sidibe",
        legal_name="Fatoumata Sidibé",
        phone="+22376554433",
        email="fanta.sidibe@example.org",
        notes="Lives near the Grand Marché",
    )


def _events_since(before: int) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(pk__gt=before).order_by("pk"))


def _last_pk() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def _raw_row(event: AuditEvent) -> str:
    """Every column of the stored row, as the database holds it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM union_auditevent WHERE id = %s", [event.pk])
        return " ".join(str(value) for value in cursor.fetchone())


def test_viewing_a_member_leaves_one_anonymous_audit_row(client, login, secretary, fanta):
    login(client, secretary)
    before = _last_pk()
    response = client.get(reverse("union:member_detail", args=[fanta.public_id]))
    assert response.status_code == 200
    assert "Fatoumata Sidibé" in response.content.decode()  # the secretary saw the details

    (event,) = _events_since(before)
    assert event.action == AuditAction.MEMBER_VIEW
    assert event.actor == secretary.user
    assert event.branch == fanta.branch
    assert event.target == f"member:{fanta.public_id}"
    row = _raw_row(event)
    for personal in (
        "Fanta",
        "Sidib",
        "76554433",
        "fanta.sidibe",
        "Grand Marché",
        str(fanta.number),
    ):
        assert personal not in row, f"{personal!r} is in the audit log"


def test_each_view_is_counted(client, login, treasurer, fanta):
    login(client, treasurer)
    url = reverse("union:member_detail", args=[fanta.public_id])
    client.get(url)
    client.get(url)
    views = AuditEvent.objects.filter(
        action=AuditAction.MEMBER_VIEW, target=f"member:{fanta.public_id}", actor=treasurer.user
    )
    assert views.count() == 2


def test_a_refused_view_of_another_branch_leaves_no_row(client, login, other_secretary, fanta):
    login(client, other_secretary)
    before = _last_pk()
    url = reverse("union:member_detail", args=[fanta.public_id])
    assert client.get(url, follow=True).status_code == 404
    assert _events_since(before) == []


def test_approval_and_rejection_are_audited(client, login, secretary, bamako):
    to_approve = MemberFactory(branch=bamako, applicant=True)
    to_reject = MemberFactory(branch=bamako, applicant=True)
    login(client, secretary)
    before = _last_pk()
    client.post(reverse("union:applicant", args=[to_approve.public_id]), {"approve": "1"})
    client.post(
        reverse("union:applicant", args=[to_reject.public_id]),
        {"reject": "1", "reason": "Duplicate of an existing member"},
    )
    actions = [(e.action, e.target, e.actor_id) for e in _events_since(before)]
    assert actions == [
        (AuditAction.MEMBER_APPROVE, f"member:{to_approve.public_id}", secretary.user.pk),
        (AuditAction.MEMBER_REJECT, f"member:{to_reject.public_id}", secretary.user.pk),
    ]


def test_a_status_change_is_audited_once(client, login, secretary, fanta):
    login(client, secretary)
    url = reverse("union:member_status", args=[fanta.public_id])
    before = _last_pk()
    client.post(url, {"status": MemberStatus.SUSPENDED, "reason": "Asked for a pause"})
    client.post(url, {"status": MemberStatus.SUSPENDED, "reason": "Asked for a pause"})
    events = _events_since(before)
    assert [(e.action, e.target) for e in events] == [
        (AuditAction.MEMBER_STATUS, f"member:{fanta.public_id}")
    ]
    assert "Asked for a pause" not in _raw_row(events[0])  # the reason lives in the history


def test_giving_and_ending_a_role_is_audited(client, login, secretary, fanta):
    login(client, secretary)
    before = _last_pk()
    client.post(
        reverse("union:roles"),
        {
            "member_number": fanta.number,
            "role": Role.TREASURER,
            "branch": fanta.branch_id,
            "starts_on": timezone.localdate().isoformat(),
        },
    )
    assignment = RoleAssignment.objects.get(member=fanta)
    client.post(reverse("union:role_end", args=[assignment.pk]))
    events = _events_since(before)
    assert [(e.action, e.target, e.actor_id) for e in events] == [
        (AuditAction.ROLE_ASSIGN, f"role:{assignment.pk}", secretary.user.pk),
        (AuditAction.ROLE_END, f"role:{assignment.pk}", secretary.user.pk),
    ]


def test_an_audit_row_cannot_be_changed_or_deleted_through_the_model(secretary, fanta):
    event = AuditEvent.objects.create(
        actor=secretary.user, action=AuditAction.MEMBER_VIEW, target=f"member:{fanta.public_id}"
    )
    event.actor = None
    with pytest.raises(TypeError, match="append-only"):
        event.save()
    with pytest.raises(TypeError, match="append-only"):
        event.delete()
    event.refresh_from_db()
    assert event.actor == secretary.user


@pytest.mark.vendor("postgresql")  # triggers (union 0002)
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE union_auditevent SET actor_id = NULL WHERE id = %s",
        "DELETE FROM union_auditevent WHERE id = %s",
    ],
)
def test_the_database_refuses_to_rewrite_the_audit_log(secretary, fanta, statement):
    event = AuditEvent.objects.create(
        actor=secretary.user, action=AuditAction.MEMBER_VIEW, target=f"member:{fanta.public_id}"
    )
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk, actor=secretary.user).exists()


@pytest.mark.vendor("postgresql")  # triggers (union 0002)
def test_bulk_updates_and_deletes_are_refused_too(secretary, fanta):
    AuditEvent.objects.create(actor=secretary.user, action=AuditAction.MEMBER_VIEW)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.update(at=timezone.now() - timedelta(days=365))
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.filter(actor=secretary.user).count() == 1


@pytest.mark.vendor("postgresql")  # triggers (union 0002)
def test_the_status_history_cannot_be_rewritten_either(secretary, fanta):
    change_member_status(actor=secretary.user, member=fanta, to=MemberStatus.SUSPENDED)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE union_memberstatuschange SET to_status = 'active' WHERE member_id = %s",
            [fanta.pk],
        )
    assert fanta.status_history.get().to_status == MemberStatus.SUSPENDED
