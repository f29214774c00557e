"""Erasure and access on request.

A member who resigns, or who is in danger, can ask to be forgotten: an officer with the
right (secretaries, the national coordinator) or the member herself erases what identifies
her; the union's accounts, rolls and audit stay, pointing at nothing personal. A member
also downloads what the union holds on her.

Personas (tests/conftest.py): secretary (BKO) may erase BKO members; treasurer may not;
other_secretary (Ségou) sees nothing of BKO.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import PASSWORD, MemberFactory
from union import registry
from union.crypto import EncryptedTextField, keyed_hash
from union.models import (
    AuditAction,
    AuditEvent,
    Member,
    MemberStatus,
    MemberStatusChange,
    Notification,
    NotificationStatus,
    Role,
    RoleAssignment,
)
from union.services.erasure import erase_member
from union.services.members import change_member_status

NAME = "Zqxcanary Traore"
LEGAL = "Zqxlegal Canary"
PHONE_DIGITS = "76991122"
PHONE = f"+223{PHONE_DIGITS}"
EMAIL = "zqxcanary@example.org"
NOTES = "Zqxnotes: lives with her sister behind the market"
REASON = "Zqxreason: threatened by a client"
MARKERS = (NAME, LEGAL, PHONE_DIGITS, EMAIL, NOTES, REASON, "Zqx")


@pytest.fixture
def canary(bamako, secretary) -> Member:
    """A member with everything the union can hold on her: details, a login with a second
    factor, a status history with a reason, a message, an admin history line."""
    member = MemberFactory(
        branch=bamako,
        working_name=NAME,
        legal_name=LEGAL,
        phone=PHONE,
        email=EMAIL,
        notes=NOTES,
        contact_preference="sms",
        consent_sms=True,
        with_login=True,
    )
    TOTPDevice.objects.create(user=member.user, name="phone", confirmed=True)
    change_member_status(
        actor=secretary.user, member=member, to=MemberStatus.SUSPENDED, reason=REASON
    )
    change_member_status(actor=secretary.user, member=member, to=MemberStatus.ACTIVE)
    Notification.objects.create(
        member=member, kind="welcome", channel="sms", subject="", body=f"Hello {NAME}",
        dedupe_key=f"canary:{member.pk}",
    )  # fmt: skip
    LogEntry.objects.create(
        user=secretary.user,
        content_type=ContentType.objects.get_for_model(Member),
        object_id=str(member.pk),
        object_repr=NAME,
        action_flag=CHANGE,
        change_message=f'[{{"changed": {{"fields": ["{NAME}"]}}}}]',
    )
    member.refresh_from_db()
    return member


def _sign_in(client: Client, username: str) -> bool:
    response = client.post(reverse("union:login"), {"username": username, "password": PASSWORD})
    return response.status_code == 302


def _decrypted_values() -> list[str]:
    """Every value of every encrypted column of every table, decrypted."""
    values = []
    for model in apps.get_models():
        fields = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        for field in fields:
            values += [v for v in model.objects.values_list(field, flat=True) if v]
    return values


# --- what is erased, what stays -------------------------------------------------------


@pytest.mark.vendor("postgresql")  # pg_dump
@pytest.mark.django_db(transaction=True)
def test_after_erasure_a_canary_name_and_phone_appear_nowhere_in_a_database_dump(canary, secretary):
    from tests.union.test_encryption import _dump_database

    assert NAME in _dump_database()  # the marker is findable before
    erase_member(actor=secretary.user, member=canary)

    dump = _dump_database()
    for marker in (*MARKERS, keyed_hash(PHONE)):
        assert marker not in dump, f"{marker!r} is still in the database"
    # Nor inside any encrypted column: erased, not just unreadable.
    assert not [v for v in _decrypted_values() if any(m in v for m in MARKERS)]


@pytest.mark.embedded  # the append-only status history lets the reasons be erased, on SQLite too
@pytest.mark.django_db
def test_the_record_keeps_her_number_and_history_and_loses_the_rest(canary, secretary):
    number, public_id = canary.number, canary.public_id
    history = MemberStatusChange.objects.filter(member=canary).count()
    erase_member(actor=secretary.user, member=canary)
    canary.refresh_from_db()
    assert canary.working_name == number
    assert (canary.legal_name, canary.phone, canary.email, canary.notes) == ("", "", "", "")
    assert canary.phone_hash is None and canary.user is None
    assert (canary.consent_sms, canary.contact_preference) == (False, "none")
    assert canary.erased_at is not None and canary.public_id == public_id
    assert canary.status == MemberStatus.ACTIVE  # erasure is not a status change
    # The history stays (dates, statuses) without the reasons; the message without its text.
    assert MemberStatusChange.objects.filter(member=canary).count() == history
    assert set(
        MemberStatusChange.objects.filter(member=canary).values_list("reason", flat=True)
    ) == {""}
    message = Notification.objects.get(member=canary)
    assert (message.body, message.status) == ("", NotificationStatus.SUPPRESSED)
    assert LogEntry.objects.get(object_id=str(canary.pk)).object_repr == number


@pytest.mark.django_db
def test_an_erased_member_can_no_longer_sign_in_and_her_session_ends(canary, secretary):
    number = canary.number
    client = Client()
    assert _sign_in(client, number)
    erase_member(actor=secretary.user, member=canary)
    assert client.get(reverse("union:profile")).status_code == 302  # to the sign-in page
    assert not _sign_in(Client(), number)
    assert not TOTPDevice.objects.filter(user_id=canary.user_id).exists()


@pytest.mark.django_db
def test_the_erasure_is_audited_without_the_erased_values(canary, secretary):
    erase_member(actor=secretary.user, member=canary)
    event = AuditEvent.objects.get(action=AuditAction.MEMBER_ERASE)
    assert (event.actor, event.target, event.branch) == (
        secretary.user,
        f"member:{canary.public_id}",
        canary.branch,
    )
    texts = AuditEvent.objects.values_list("target", "action")
    assert not [t for t in texts if any(m in " ".join(t) for m in MARKERS)]


@pytest.mark.django_db
def test_erasing_twice_changes_nothing(canary, secretary, national_coordinator):
    erase_member(actor=secretary.user, member=canary)
    erase_member(actor=national_coordinator.user, member=canary)
    assert AuditEvent.objects.filter(action=AuditAction.MEMBER_ERASE).count() == 1


@pytest.mark.django_db
def test_an_officer_who_asks_to_be_forgotten_keeps_the_rows_she_signed(
    bamako, secretary, national_coordinator
):
    """Her account stays as a row that her past audit and status rows name, with nothing
    that identifies her or lets anyone in."""
    target = MemberFactory(branch=bamako)
    change_member_status(actor=secretary.user, member=target, to=MemberStatus.SUSPENDED)
    erase_member(actor=national_coordinator.user, member=secretary)
    row = MemberStatusChange.objects.get(member=target, to_status=MemberStatus.SUSPENDED)
    assert row.changed_by.username.startswith("erased-")
    assert not row.changed_by.has_usable_password() and not row.changed_by.is_active


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["treasurer", "other_secretary", "crisis_responder"])
def test_only_officers_with_the_right_for_her_branch_may_erase(request, canary, persona):
    officer = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied):
        erase_member(actor=officer.user, member=canary)
    canary.refresh_from_db()
    assert canary.erased_at is None and canary.legal_name == LEGAL


@pytest.mark.django_db
def test_each_app_erases_its_own_data_through_a_hook(canary, secretary):
    seen = []

    def hook(member, actor):
        seen.append((member.pk, member.working_name, actor))

    registry.register_erasure_hook(hook)
    try:
        erase_member(actor=secretary.user, member=canary)
    finally:
        registry._erasure_hooks.remove(hook)
    assert seen == [(canary.pk, canary.number, secretary.user)]


@pytest.mark.vendor("postgresql")
@pytest.mark.django_db
def test_the_status_history_still_refuses_every_other_change(canary):
    row = MemberStatusChange.objects.exclude(reason="").get(member=canary)
    for sql in (
        "UPDATE union_memberstatuschange SET to_status = 'active' WHERE id = %s",
        "UPDATE union_memberstatuschange SET reason = '', to_status = 'active' WHERE id = %s",
        "DELETE FROM union_memberstatuschange WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [row.pk])
    blank = MemberStatusChange.objects.filter(member=canary, reason="").first()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE union_memberstatuschange SET id = id WHERE id = %s", [blank.pk])


# --- the screens ----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_office_asks_for_her_number_before_erasing(client, login, secretary, canary):
    url = reverse("union:member_erase", args=[canary.public_id])
    login(client, secretary)
    detail = client.get(reverse("union:member_detail", args=[canary.public_id]))
    assert url in detail.content.decode()
    wrong = client.post(url, {"confirm": "BKO-000000"})
    assert wrong.status_code == 400
    assert "That is not this member" in wrong.content.decode()
    canary.refresh_from_db()
    assert canary.erased_at is None

    done = client.post(url, {"confirm": canary.number.lower()})
    assert done.status_code == 302
    canary.refresh_from_db()
    assert canary.erased_at is not None
    page = client.get(done["Location"]).content.decode()
    assert NAME not in page and url not in page


@pytest.mark.django_db
def test_a_member_asks_to_be_forgotten_from_her_account(client, canary):
    number = canary.number
    assert _sign_in(client, number)
    url = reverse("union:forget_me")
    assert client.get(url).status_code == 200
    refused = client.post(url, {"password": "not-hers", "understood": "on"})
    assert refused.status_code == 400
    assert "That is not your password." in refused.content.decode()
    unconfirmed = client.post(url, {"password": PASSWORD})
    assert unconfirmed.status_code == 400
    canary.refresh_from_db()
    assert canary.erased_at is None

    done = client.post(url, {"password": PASSWORD, "understood": "on"})
    assert done.status_code == 200
    assert "Your details are erased" in done.content.decode()
    canary.refresh_from_db()
    assert canary.erased_at is not None and canary.legal_name == ""
    assert client.get(reverse("union:profile")).status_code == 302  # signed out
    assert not _sign_in(Client(), number)
    event = AuditEvent.objects.get(action=AuditAction.MEMBER_ERASE)
    assert event.actor_id is not None and event.target == f"member:{canary.public_id}"


# --- her copy of what the union holds -------------------------------------------------


@pytest.fixture
def french_member(bamako, secretary) -> Member:
    member = MemberFactory(
        branch=bamako,
        working_name="Awa Copie",
        legal_name="Awa Diallo",
        phone="+22376000001",
        notes="Officers only: Zqxnotes",
        preferred_language="fr",
        with_login=True,
    )
    RoleAssignment.objects.create(
        member=member,
        role=Role.WELFARE_COMMITTEE,
        branch=bamako,
        starts_on=timezone.localdate() - timedelta(days=3),
    )
    change_member_status(actor=secretary.user, member=member, to=MemberStatus.SUSPENDED,
                         reason="Zqxreason")  # fmt: skip
    change_member_status(actor=secretary.user, member=member, to=MemberStatus.ACTIVE)
    return member


@pytest.mark.django_db
def test_a_member_downloads_what_the_union_holds_in_her_language(client, french_member, settings):
    if not (settings.BASE_DIR / "locale" / "fr" / "LC_MESSAGES" / "django.mo").exists():
        pytest.xfail("French catalogue missing (run manage.py compilemessages)")
    client.force_login(french_member.user)
    page = client.get(reverse("union:my_data"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Ce que le syndicat détient sur moi" in body
    for value in ("Awa Copie", "Awa Diallo", "+22376000001", french_member.number, "Suspendu"):
        assert value in body
    assert "Zqx" not in body  # officers' notes and reasons are not in her copy

    file = client.get(reverse("union:my_data_csv"))
    assert file["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(file.content.decode("utf-8-sig"))))
    assert rows[0] == ["Partie", "Ligne", "Élément", "Valeur"]
    values = {row[3] for row in rows[1:]}
    assert {"Awa Diallo", "'+22376000001"} <= values  # the file never holds a formula
    assert not [v for v in values if "Zqx" in v]
    assert (
        AuditEvent.objects.filter(
            action=AuditAction.MEMBER_DATA, target=f"member:{french_member.public_id}"
        ).count()
        == 2
    )


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["my_data", "my_data_csv", "forget_me"])
def test_the_account_pages_need_a_sign_in(client, name):
    response = client.get(reverse(f"union:{name}"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("union:login"))
