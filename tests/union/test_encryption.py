"""Sensitive member details are unreadable in the database and in its backups.

A database dump is what leaks: a stolen backup, a seized server. These tests dump the
real test database with pg_dump and look for the plain values in it.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from tests.factories import MemberFactory
from union.crypto import keyed_hash
from union.models import Member, MemberStatusChange
from union.selectors import search_q
from union.services.members import ContactDetails, register_applicant, reject_applicant

# Each marker appears nowhere else, so finding it in a dump can only mean a leak.
LEGAL = "Zqxlegal Kouyate"
EMAIL = "zqxmail.kone@example.org"
NOTES = "Zqxnotes: met at the Hippodrome outreach"
REASON = "Zqxreason: already a member in Kayes"
PHONE_DIGITS = "76998877"  # +223 76 99 88 77
FACTORY_LEGAL = "Zqxfactory Diarra"
FACTORY_PHONE_DIGITS = "65443322"

pytestmark = pytest.mark.embedded


def _pg_dump() -> str:
    bindir = os.environ.get("PG_BINDIR")
    candidate = Path(bindir) / "pg_dump" if bindir else None
    if candidate is not None and candidate.exists():
        return str(candidate)
    found = shutil.which("pg_dump")
    if found is None:
        pytest.fail("pg_dump not found: set PG_BINDIR or put it on PATH")
    return found


def _dump_database() -> str:
    settings = connection.settings_dict
    assert connection.vendor == "postgresql", "the dump test needs PostgreSQL"
    args = [_pg_dump(), "--no-owner", "--dbname", settings["NAME"]]
    if settings.get("HOST"):
        args += ["--host", settings["HOST"]]
    if settings.get("PORT"):
        args += ["--port", str(settings["PORT"])]
    if settings.get("USER"):
        args += ["--username", settings["USER"]]
    env = {"PATH": os.environ.get("PATH", ""), "PGPASSWORD": settings.get("PASSWORD") or ""}
    result = subprocess.run(args, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture
def sensitive_members(bamako, secretary):
    """One applicant registered by the secretary (then rejected), one member from the factory."""
    applicant = register_applicant(
        actor=secretary.user,
        branch=bamako,
        working_name="Dump Check One",
        preferred_language="fr",
        contact_preference="sms",
        contact=ContactDetails(
            legal_name=LEGAL, phone=f"+223{PHONE_DIGITS}", email=EMAIL, notes=NOTES
        ),
        consent_sms=True,
    )
    reject_applicant(actor=secretary.user, member=applicant, reason=REASON)
    member = MemberFactory(
        branch=bamako,
        working_name="Dump Check Two",
        legal_name=FACTORY_LEGAL,
        phone=f"+223{FACTORY_PHONE_DIGITS}",
        email="zqxfactory@example.org",
        notes="Zqxfactorynotes",
    )
    return applicant, member


@pytest.mark.vendor("postgresql")  # pg_dump; the SQLite twin is in tests/sqlite/
@pytest.mark.django_db(transaction=True)
def test_a_database_dump_holds_no_personal_details(sensitive_members):
    dump = _dump_database()
    assert "Dump Check One" in dump, "the rows are in the dump (working names are not secret)"
    for marker in (
        LEGAL,
        EMAIL,
        NOTES,
        REASON,
        PHONE_DIGITS,
        FACTORY_LEGAL,
        FACTORY_PHONE_DIGITS,
        "zqxfactory@example.org",
        "Zqxfactorynotes",
    ):
        assert marker not in dump, f"{marker!r} is readable in a database dump"
    # Not even as an unkeyed hash that a list of all phone numbers could reverse.
    import hashlib

    assert hashlib.sha256(f"+223{PHONE_DIGITS}".encode()).hexdigest() not in dump


def test_details_read_back_decrypted(sensitive_members):
    applicant, member = sensitive_members
    applicant = Member.objects.get(pk=applicant.pk)
    assert (applicant.legal_name, applicant.phone, applicant.email, applicant.notes) == (
        LEGAL,
        f"+223{PHONE_DIGITS}",
        EMAIL,
        NOTES,
    )
    assert MemberStatusChange.objects.get(member=applicant, to_status="rejected").reason == REASON
    assert Member.objects.get(pk=member.pk).legal_name == FACTORY_LEGAL


def test_stored_values_are_tokens_not_text(sensitive_members):
    applicant, _member = sensitive_members
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT legal_name, phone, email, notes, phone_hash FROM union_member WHERE id = %s",
            [applicant.pk],
        )
        legal, phone, email, notes, phone_hash = cursor.fetchone()
    for token in (legal, phone, email, notes):
        assert token.startswith("gAAAA")  # a Fernet token
    assert phone_hash == keyed_hash(f"+223{PHONE_DIGITS}")


def test_a_member_is_found_by_phone_through_the_keyed_hash(sensitive_members):
    _applicant, member = sensitive_members
    for typed in ("65 44 33 22", "+223 65 44 33 22", "0022365443322"):
        found = list(Member.objects.filter(search_q(typed, region="ML")))
        assert found == [member], typed


def test_old_rows_still_decrypt_after_a_new_key_is_put_first(settings, sensitive_members):
    applicant, member = sensitive_members
    settings.FIELD_ENCRYPTION_KEYS = [
        Fernet.generate_key().decode(),
        *settings.FIELD_ENCRYPTION_KEYS,
    ]
    assert Member.objects.get(pk=applicant.pk).legal_name == LEGAL
    assert Member.objects.get(pk=member.pk).phone == f"+223{FACTORY_PHONE_DIGITS}"


@pytest.mark.embedded
def test_after_rotation_the_old_key_can_be_removed(settings, sensitive_members, rotation_role):
    applicant, member = sensitive_members
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *settings.FIELD_ENCRYPTION_KEYS]

    call_command("rotate_field_keys", stdout=io.StringIO())

    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    applicant = Member.objects.get(pk=applicant.pk)
    assert (applicant.legal_name, applicant.email, applicant.notes) == (LEGAL, EMAIL, NOTES)
    assert Member.objects.get(pk=member.pk).legal_name == FACTORY_LEGAL
    # The append-only history was re-encrypted too, without changing what it says.
    assert MemberStatusChange.objects.get(member=applicant, to_status="rejected").reason == REASON


def test_without_the_key_nothing_can_be_read(settings, sensitive_members):
    applicant, _member = sensitive_members
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ValueError, match="could not be decrypted"):
        Member.objects.get(pk=applicant.pk)
