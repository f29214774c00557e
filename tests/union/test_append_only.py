"""Records that must never change (the audit log, status histories, the ledger) are
append-only in the database itself, on PostgreSQL and on SQLite alike.

On PostgreSQL no session with the application's credentials can lift that: only the
key-rotation role may rewrite a row (re-encrypting it), and nobody may delete one.
"""

from __future__ import annotations

import io

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from dues.services import ledger, plans
from union import append_only
from union.models import AppendOnlyModel, AuditEvent, MemberStatusChange
from union.services.audit import record_access
from union.services.members import ContactDetails, register_applicant

APPEND_ONLY_TABLES = sorted(
    model._meta.db_table for model in apps.get_models() if issubclass(model, AppendOnlyModel)
)
postgresql_only = pytest.mark.vendor("postgresql")  # database roles exist there only


def _refused(sql: str, params: list[object], *, before: str = "") -> None:
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        if before:
            cursor.execute(before)
        cursor.execute(sql, params)


@pytest.fixture
def audit_row(db) -> AuditEvent:
    return record_access(actor=None, action="member.view", target="member:x")


@pytest.mark.embedded
@pytest.mark.django_db
def test_every_append_only_table_has_its_triggers():
    assert {"union_auditevent", "dues_ledgerentry"} <= set(APPEND_ONLY_TABLES)
    missing = [table for table in APPEND_ONLY_TABLES if not append_only.triggers_on(table)]
    assert missing == []


@pytest.mark.embedded
@pytest.mark.parametrize("operation", ["UPDATE", "DELETE"])
def test_the_audit_log_and_status_history_cannot_be_changed_in_the_database(
    bamako, audit_row, operation
):
    applicant = register_applicant(
        actor=None,
        branch=bamako,
        working_name="Awa",
        preferred_language="fr",
        contact_preference="none",
        contact=ContactDetails(),
    )
    history = MemberStatusChange.objects.get(member=applicant)
    for table, pk in (("union_auditevent", audit_row.pk), ("union_memberstatuschange", history.pk)):
        sql = {
            "UPDATE": f"UPDATE {table} SET id = id WHERE id = %s",  # noqa: S608
            "DELETE": f"DELETE FROM {table} WHERE id = %s",  # noqa: S608
        }[operation]
        _refused(sql, [pk])
    assert AuditEvent.objects.filter(pk=audit_row.pk, target="member:x").exists()


@pytest.mark.embedded
def test_the_ledger_cannot_be_changed_in_the_database(bamako, treasurer, member):
    plans.set_dues_plan(
        actor=None,
        branch=bamako,
        monthly_amount=1000,
        solidarity_amount=500,
        confirm_threshold=5000,
    )
    entry = ledger.record_payment(
        actor=treasurer.user,
        member=member,
        amount=1000,
        currency=bamako.currency,
        method="cash",
        receipt_number="R1",
        paid_on=timezone.localdate(),
    )
    _refused("UPDATE dues_ledgerentry SET amount = 1 WHERE id = %s", [entry.pk])
    _refused("DELETE FROM dues_ledgerentry WHERE id = %s", [entry.pk])


@postgresql_only
def test_the_old_session_setting_no_longer_lifts_the_triggers(audit_row):
    _refused(
        "UPDATE union_auditevent SET target = 'member:y' WHERE id = %s",
        [audit_row.pk],
        before="SET LOCAL solidaire.rewrap_keys = 'on'",
    )
    audit_row.refresh_from_db()
    assert audit_row.target == "member:x"


@postgresql_only
def test_only_the_key_rotation_role_may_rewrite_a_row_and_never_delete_one(
    rotation_role, audit_row
):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {rotation_role}")
        cursor.execute("UPDATE union_auditevent SET target = target WHERE id = %s", [audit_row.pk])
        assert cursor.rowcount == 1
        cursor.execute("RESET ROLE")
    # Even were the role given the right to delete, the trigger refuses.
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT DELETE ON union_auditevent TO {rotation_role}")
    _refused(
        "DELETE FROM union_auditevent WHERE id = %s",
        [audit_row.pk],
        before=f"SET LOCAL ROLE {rotation_role}",
    )


@postgresql_only
def test_key_rotation_refuses_to_run_without_the_rotation_role(db):
    with pytest.raises(CommandError, match=append_only.ROTATION_ROLE):
        call_command("rotate_field_keys", stdout=io.StringIO())


@pytest.mark.embedded
@pytest.mark.django_db(transaction=True)
def test_flush_still_empties_the_append_only_tables():
    record_access(actor=None, action="member.view", target="member:x")
    call_command("flush", interactive=False, verbosity=0)
    assert not AuditEvent.objects.exists()
    # The triggers are back in force afterwards.
    event = record_access(actor=None, action="member.view", target="member:x")
    _refused("DELETE FROM union_auditevent WHERE id = %s", [event.pk])
