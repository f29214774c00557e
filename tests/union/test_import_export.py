"""Importing a register (upload, preview, confirm) and exporting it, as officers use them.

Personas from tests/conftest.py: the BKO secretary imports and exports BKO; the Ségou
secretary sees nothing of BKO; the national coordinator works everywhere; members,
treasurers and an ended secretary are turned away.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse

from tests.factories import MemberFactory
from union.crypto import keyed_hash
from union.models import AuditAction, AuditEvent, Member, MemberStatus, MemberStatusChange
from union.resources import REGISTER_COLUMNS, MemberResource
from union.services.imports import import_register

IMPORT_URL = reverse("union:import_members")
EXPORT_URL = reverse("union:export_members")
HEADER = ",".join(REGISTER_COLUMNS)

pytestmark = pytest.mark.embedded
COPY_NEEDS_POSTGRESQL = pytest.mark.vendor("postgresql")


@pytest.fixture(autouse=True)
def _pending_dir(settings, tmp_path) -> Path:
    private = settings.STORAGES["private"]
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {**private, "OPTIONS": {**private["OPTIONS"], "location": str(tmp_path)}},
    }
    return tmp_path / "imports"


def _csv(*lines: str, header: str = HEADER) -> str:
    return "\n".join([header, *lines]) + "\n"


def _upload(content: str | bytes, name: str = "register.csv", encoding: str = "utf-8"):
    data = content.encode(encoding) if isinstance(content, str) else content
    return SimpleUploadedFile(name, data, content_type="text/csv")


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _preview(client, upload, **fields):
    return client.post(IMPORT_URL, {"file": upload, **fields})


def _confirm(client, preview_response):
    token = preview_response.context["token"]
    assert token, "the preview offers to import"
    return client.post(IMPORT_URL, {"confirm": "1", "token": token}, follow=True)


def _import(client, content, name="register.csv", encoding="utf-8"):
    preview = _preview(client, _upload(content, name, encoding))
    assert preview.status_code == 200
    return preview, _confirm(client, preview)


def _row_errors(response) -> dict[int, list[str]]:
    return {row.line: row.errors for row in response.context["plan"].error_rows}


# --- Preview -------------------------------------------------------------------------


def test_preview_lists_each_rows_errors_and_saves_nothing(client, login, secretary, segou):
    MemberFactory(branch=secretary.branch, phone="+22370000009")
    members_before = Member.objects.count()
    history_before = MemberStatusChange.objects.count()
    login(client, secretary)
    content = _csv(
        ",Aminata,BKO,active,,,70 00 00 01,,,,,,",  # 2: fine
        ",Kadi,XYZ,active,,,,,,,,,",  # 3: unknown branch
        ",Fanta,BKO,active,,,70 00 00 02,,,,,,",  # 4: same phone as row 5
        ",Mariam,BKO,active,,,70 00 00 02,,,,,,",  # 5
        "BKO-000777,Oumou,BKO,active,,,70 00 00 09,,,,,,",  # 6: phone of another member
        ",Awa,BKO,retired,,,,,,,,,",  # 7: bad status
        ",,BKO,active,,,,,,,,,",  # 8: no name
        ",Salimata,SEG,active,,,,,,,,,",  # 9: branch outside the secretary's scope
        ",<script>alert(1)</script>,BKO,active,,,,,,,,,",  # 10: markup in the name
    )
    response = _preview(client, _upload(content))

    assert response.status_code == 200
    errors = _row_errors(response)
    assert sorted(errors) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert "no branch with the code “XYZ”" in errors[3][0]
    assert any("more than one row" in e for e in errors[4])
    assert any("belongs to another member" in e for e in errors[6])
    assert any("Unknown status" in e for e in errors[7])
    assert any("give a name" in e.lower() for e in errors[8])
    assert any("cannot import members into the branch “SEG”" in e for e in errors[9])
    assert any("letters, spaces" in e for e in errors[10])
    body = response.content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "Import 1 row" in body
    assert Member.objects.count() == members_before
    assert MemberStatusChange.objects.count() == history_before
    assert not AuditEvent.objects.filter(action=AuditAction.MEMBER_IMPORT).exists()


def test_preview_refuses_duplicate_membership_numbers_in_the_file(client, login, secretary):
    login(client, secretary)
    response = _preview(
        client, _upload(_csv("BKO-000700,Awa,BKO,,,,,,,,,,", "BKO-000700,Fatou,BKO,,,,,,,,,,"))
    )
    errors = _row_errors(response)
    assert sorted(errors) == [2, 3]
    assert all("more than one row" in e[0] for e in errors.values())
    assert response.context["token"] == ""


def test_upload_is_kept_encrypted_until_confirmed_then_removed(
    client, login, secretary, _pending_dir
):
    login(client, secretary)
    preview = _preview(client, _upload(_csv(",Nomvula Dlamini,BKO,,,,70 11 22 33,,,,,,")))
    stored = list(_pending_dir.glob("*.bin"))
    assert len(stored) == 1
    raw = stored[0].read_bytes()
    assert b"Nomvula" not in raw and b"70 11 22 33" not in raw
    _confirm(client, preview)
    assert list(_pending_dir.glob("*.bin")) == []


def test_confirming_with_an_unknown_token_imports_nothing(client, login, secretary):
    login(client, secretary)
    _preview(client, _upload(_csv(",Awa,BKO,,,,,,,,,,")))
    response = client.post(IMPORT_URL, {"confirm": "1", "token": "x" * 43}, follow=True)
    assert "expired" in response.content.decode()
    assert not Member.objects.filter(working_name="Awa").exists()


def test_cancelling_a_preview_imports_nothing(client, login, secretary, _pending_dir):
    login(client, secretary)
    preview = _preview(client, _upload(_csv(",Awa,BKO,,,,,,,,,,")))
    client.post(IMPORT_URL, {"cancel": "1", "token": preview.context["token"]})
    assert list(_pending_dir.glob("*.bin")) == []
    assert not Member.objects.filter(working_name="Awa").exists()


# --- Import ----------------------------------------------------------------------------


def test_valid_rows_import_as_active_members_with_numbers_history_and_audit(
    client, login, secretary, bamako
):
    login(client, secretary)
    content = _csv(
        ",Aminata,BKO,,2023-05-01,Aminata Traoré,70 00 00 01,a@example.org,fr,sms,oui,1,clinic",
        ",Kadi,XYZ,,,,,,,,,,",  # skipped: unknown branch
        "BKO-000120,Fatou,BKO,lapsed,,,,,,,,,",
    )
    _preview_response, done = _import(client, content)

    assert "2 new members" in done.content.decode()
    aminata = Member.objects.get(working_name="Aminata")
    assert aminata.status == MemberStatus.ACTIVE
    assert aminata.number.startswith("BKO-")
    assert aminata.source == "import"
    assert aminata.legal_name == "Aminata Traoré"
    assert aminata.phone == "+22370000001"
    assert aminata.phone_hash == keyed_hash("+22370000001")
    assert aminata.email == "a@example.org"
    assert (aminata.consent_sms, aminata.consent_crisis_contact) == (True, True)
    assert aminata.contact_preference == "sms"
    assert str(aminata.joined_on) == "2023-05-01"
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone, legal_name FROM union_member WHERE id = %s", [aminata.pk])
        stored = cursor.fetchone()
    assert "+22370000001" not in stored[0] and "Traoré" not in stored[1]  # encrypted at rest
    fatou = Member.objects.get(number="BKO-000120")
    assert fatou.status == MemberStatus.LAPSED
    history = MemberStatusChange.objects.filter(member__in=[aminata, fatou])
    assert sorted(h.to_status for h in history) == ["active", "lapsed"]
    assert {h.changed_by_id for h in history} == {secretary.user_id}
    audit = AuditEvent.objects.get(action=AuditAction.MEMBER_IMPORT)
    assert (audit.actor_id, audit.rows, audit.branch_id) == (secretary.user_id, 2, bamako.pk)
    assert not Member.objects.filter(working_name="Kadi").exists()


def test_numbers_from_the_file_move_the_branch_sequence_past_them(client, login, secretary):
    login(client, secretary)
    _import(client, _csv("BKO-000120,Fatou,BKO,,,,,,,,,,", ",Awa,BKO,,,,,,,,,,"))
    awa = Member.objects.get(working_name="Awa")
    assert awa.number == "BKO-000121"
    secretary.branch.refresh_from_db()
    assert secretary.branch.next_member_seq == 122


@pytest.mark.parametrize("method", [pytest.param("copy", marks=COPY_NEEDS_POSTGRESQL), "orm"])
def test_reimporting_the_same_file_updates_and_never_duplicates(
    secretary, bamako, method, settings
):
    actor = secretary.user
    first = _csv(
        "BKO-000300,Nomvula,BKO,active,,,,,,,,,",
        ",Sreymom,BKO,active,,,70 00 00 10,,,,,,",  # no number: matched by phone next time
    ).encode()
    import_register(actor=actor, data=first, filename="r.csv", method=method)
    count = Member.objects.count()
    sreymom = Member.objects.get(working_name="Sreymom")

    second = _csv(
        "BKO-000300,Nomvula Zulu,BKO,lapsed,,,,,,,,,",
        ",Sreymom,BKO,suspended,,,70 00 00 10,,,,,,",
    ).encode()
    outcome = import_register(actor=actor, data=second, filename="r.csv", method=method)

    assert (outcome.created, outcome.updated, outcome.status_changes) == (0, 2, 2)
    assert Member.objects.count() == count
    nomvula = Member.objects.get(number="BKO-000300")
    assert (nomvula.working_name, nomvula.status) == ("Nomvula Zulu", MemberStatus.LAPSED)
    sreymom.refresh_from_db()
    assert sreymom.status == MemberStatus.SUSPENDED
    assert sreymom.phone == "+22370000010"
    assert list(nomvula.status_history.order_by("id").values_list("from_status", "to_status")) == [
        ("", "active"),
        ("active", "lapsed"),
    ]
    assert AuditEvent.objects.filter(action=AuditAction.MEMBER_IMPORT).count() == 2


@pytest.mark.parametrize("method", [pytest.param("copy", marks=COPY_NEEDS_POSTGRESQL), "orm"])
def test_empty_cells_keep_what_is_stored(secretary, method):
    member = MemberFactory(
        branch=secretary.branch, phone="+22370000042", legal_name="Hawa Diarra", notes="keep"
    )
    data = _csv(f"{member.number},{member.working_name},BKO,,,,,,,,,,").encode()
    import_register(actor=secretary.user, data=data, filename="r.csv", method=method)
    member.refresh_from_db()
    assert (member.phone, member.legal_name, member.notes) == (
        "+22370000042",
        "Hawa Diarra",
        "keep",
    )
    assert member.status_history.count() == 0


@pytest.mark.parametrize("method", [pytest.param("copy", marks=COPY_NEEDS_POSTGRESQL), "orm"])
def test_awkward_text_survives_the_bulk_writer(secretary, method):
    data = _xlsx(
        [
            ["number", "working_name", "branch", "notes", "legal_name"],
            ["BKO-000610", "N'Deye Ba-Sy", "BKO", "line one\nline\ttwo \\N back\\slash", "Ndèye"],
        ]
    )
    import_register(actor=secretary.user, data=data, filename="r.xlsx", method=method)
    member = Member.objects.get(number="BKO-000610")
    assert member.working_name == "N'Deye Ba-Sy"
    assert member.notes == "line one\nline\ttwo \\N back\\slash"
    assert member.legal_name == "Ndèye"


def test_row_without_number_updates_the_member_with_that_phone(secretary):
    member = MemberFactory(branch=secretary.branch, phone="+22370000066")
    data = _csv(",Kadidia,BKO,lapsed,,,70 00 00 66,,,,,,").encode()
    outcome = import_register(actor=secretary.user, data=data, filename="r.csv")
    assert (outcome.created, outcome.updated) == (0, 1)
    member.refresh_from_db()
    assert (member.working_name, member.status) == ("Kadidia", MemberStatus.LAPSED)


def test_phone_of_someone_waiting_for_approval_is_refused(client, login, secretary, applicant):
    Member.objects.filter(pk=applicant.pk).update(phone_hash=keyed_hash("+22370000067"))
    login(client, secretary)
    response = _preview(client, _upload(_csv(",Kadidia,BKO,,,,70 00 00 67,,,,,,")))
    assert "waiting for approval" in _row_errors(response)[2][0]


def test_impossible_status_change_is_refused(client, login, secretary):
    resigned = MemberFactory(branch=secretary.branch, status=MemberStatus.RESIGNED)
    login(client, secretary)
    response = _preview(client, _upload(_csv(f"{resigned.number},Awa,BKO,active,,,,,,,,,")))
    assert "cannot go from Resigned to Active" in _row_errors(response)[2][0]


def test_row_without_number_named_like_an_existing_member_is_refused(client, login, secretary):
    MemberFactory(branch=secretary.branch, working_name="Fatoumata")
    login(client, secretary)
    response = _preview(client, _upload(_csv(",fatoumata,BKO,,,,,,,,,,")))
    assert "already in this branch" in _row_errors(response)[2][0]


def test_number_of_a_member_in_another_branch_is_refused(client, login, secretary, segou):
    elsewhere = MemberFactory(branch=segou)
    login(client, secretary)
    response = _preview(client, _upload(_csv(f"{elsewhere.number},Awa,BKO,,,,,,,,,,")))
    assert "branch you cannot change" in _row_errors(response)[2][0]


def test_latin1_csv_with_semicolons_and_french_headers_imports(client, login, secretary):
    content = (
        "Nom de travail;Antenne;Téléphone;Statut;Remarques\n"
        "Aïssata;BKO;70 00 00 21;Actif;Déjà vue à Médine\n"
    )
    login(client, secretary)
    _import(client, content, encoding="latin-1")
    member = Member.objects.get(working_name="Aïssata")
    assert member.phone == "+22370000021"
    assert member.notes == "Déjà vue à Médine"


def test_xlsx_keeps_khmer_zulu_and_french_names(client, login, national_coordinator, johannesburg):
    data = _xlsx(
        [
            ["number", "working_name", "branch", "phone", "joined_on"],
            [None, "សុខ ស្រីមុំ", "BKO", None, None],
            [None, "Nomvula Ngcobo", "JHB", "082 555 0101", None],
            [None, "Hélène Kéïta", "BKO", 70000031, "2024-01-15"],
        ]
    )
    login(client, national_coordinator)
    _preview_response, done = _import(client, data, name="registre.xlsx")
    assert "3 new members" in done.content.decode()
    names = set(Member.objects.filter(source="import").values_list("working_name", flat=True))
    assert names == {"សុខ ស្រីមុំ", "Nomvula Ngcobo", "Hélène Kéïta"}
    assert Member.objects.get(working_name="Nomvula Ngcobo").phone == "+27825550101"
    assert Member.objects.get(working_name="Hélène Kéïta").phone == "+22370000031"


def test_a_failure_while_writing_leaves_nothing_behind(secretary, monkeypatch):
    import union.services.imports as service

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(service, "record_access", broken)
    before = (Member.objects.count(), MemberStatusChange.objects.count())
    data = _csv(",Awa,BKO,,,,,,,,,,", "BKO-000050,Fatou,BKO,,,,,,,,,,").encode()
    with pytest.raises(RuntimeError):
        import_register(actor=secretary.user, data=data, filename="r.csv")
    assert (Member.objects.count(), MemberStatusChange.objects.count()) == before
    secretary.branch.refresh_from_db()
    assert secretary.branch.next_member_seq == 1


def test_register_changed_since_the_preview_shows_a_new_preview(client, login, secretary):
    login(client, secretary)
    preview = _preview(
        client, _upload(_csv("BKO-000400,Awa,BKO,,,,70 00 00 55,,,,,,", ",Bintou,BKO,,,,,,,,,,"))
    )
    MemberFactory(branch=secretary.branch, phone="+22370000055")  # someone else, meanwhile
    response = client.post(IMPORT_URL, {"confirm": "1", "token": preview.context["token"]})
    assert "changed since the preview" in response.content.decode()
    assert _row_errors(response)[2]
    assert not Member.objects.filter(working_name__in=["Awa", "Bintou"]).exists()
    _confirm(client, response)
    assert Member.objects.filter(working_name="Bintou").exists()


# --- Bad files -------------------------------------------------------------------------


def test_upload_of_50_mb_is_refused_before_it_is_read(client, login, secretary, _pending_dir):
    login(client, secretary)
    big = SimpleUploadedFile("big.csv", b"a" * (50 * 1024 * 1024), content_type="text/csv")
    response = _preview(client, big)
    assert response.status_code == 413
    assert "too large" in response.content.decode()
    assert not _pending_dir.exists() or list(_pending_dir.iterdir()) == []
    assert not AuditEvent.objects.filter(action=AuditAction.MEMBER_IMPORT).exists()


def test_upload_past_the_limit_without_a_length_is_cut_off(rf, secretary, settings):
    from union.views.transfer import LimitedUploadHandler

    handler = LimitedUploadHandler(1000)
    handler.receive_data_chunk(b"x" * 600, 0)
    with pytest.raises(Exception, match="StopUpload"):
        handler.receive_data_chunk(b"x" * 600, 600)
    assert handler.exceeded


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("register.xlsx", b"this is not a spreadsheet at all", "damaged"),
        ("register.xlsx", b"PK\x03\x04garbage garbage garbage", "damaged"),
        ("register.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00", "encoding"),
        ("register.csv", "working_name\nAwa\n".encode("utf-16"), "UTF-16"),
        ("register.pdf", b"%PDF-1.4 working_name", "CSV or an XLSX"),
        ("register.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "not supported"),
        ("register.csv", b"", "empty"),
        ("register.csv", b"name,town\nAwa,Bamako\n", "no working name column"),
    ],
)
def test_unreadable_files_are_refused_with_a_clear_message(
    client, login, secretary, name, content, message
):
    login(client, secretary)
    response = _preview(client, SimpleUploadedFile(name, content))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert "plan" not in response.context
    assert Member.objects.filter(source="import").count() == 0


# --- Export ----------------------------------------------------------------------------


def _export(client, **fields) -> bytes:
    response = client.post(EXPORT_URL, {"format": "csv", **fields})
    assert response.status_code == 200
    return b"".join(response.streaming_content)


def _csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_export_neutralises_spreadsheet_formulas(client, login, secretary):
    MemberFactory(
        branch=secretary.branch,
        working_name='=HYPERLINK("http://evil")',
        notes="+1+2",
        email="@SUM(1)",
        legal_name="-2+3",
    )
    login(client, secretary)
    rows = {r["working_name"]: r for r in _csv_rows(_export(client))}
    row = rows['\'=HYPERLINK("http://evil")']
    assert row["notes"] == "'+1+2"
    assert row["email"] == "'@SUM(1)"
    assert row["legal_name"] == "'-2+3"

    response = client.post(EXPORT_URL, {"format": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert '\'=HYPERLINK("http://evil")' in values
    assert not any(isinstance(v, str) and v.startswith("=") for v in values)


def test_export_holds_only_the_officers_branch_and_contact_columns(
    client, login, secretary, other_secretary, segou
):
    bko = MemberFactory(branch=secretary.branch, phone="+22370000077")
    seg = MemberFactory(branch=segou)
    login(client, secretary)
    rows = _csv_rows(_export(client))
    numbers = {r["number"] for r in rows}
    assert bko.number in numbers and seg.number not in numbers
    assert {r["branch"] for r in rows} == {"BKO"}
    assert next(r for r in rows if r["number"] == bko.number)["phone"] == "'+22370000077"


def test_other_branch_secretary_cannot_export_bamako(client, login, other_secretary, bamako):
    bko = MemberFactory(branch=bamako)
    login(client, other_secretary)
    assert bko.number not in {r["number"] for r in _csv_rows(_export(client))}
    response = client.post(EXPORT_URL, {"format": "csv", "branch": bamako.pk})
    assert not response.streaming
    assert "Select a valid choice" in response.content.decode()


def test_national_coordinator_exports_everything_or_one_branch(
    client, login, national_coordinator, segou, bamako
):
    seg = MemberFactory(branch=segou)
    bko = MemberFactory(branch=bamako)
    login(client, national_coordinator)
    everything = {r["number"] for r in _csv_rows(_export(client))}
    assert {seg.number, bko.number} <= everything
    only_segou = {r["number"] for r in _csv_rows(_export(client, branch=segou.pk))}
    assert only_segou == {seg.number}


def test_export_leaves_out_applicants_and_writes_an_audit_row(client, login, secretary):
    MemberFactory(branch=secretary.branch, applicant=True, working_name="Waiting")
    MemberFactory.create_batch(3, branch=secretary.branch)
    login(client, secretary)
    rows = _csv_rows(_export(client))
    assert "Waiting" not in {r["working_name"] for r in rows}
    audit = AuditEvent.objects.get(action=AuditAction.MEMBER_EXPORT)
    assert audit.rows == len(rows) == 4  # three members and the secretary herself
    assert audit.actor_id == secretary.user_id


def test_exported_file_imports_back_without_changes(client, login, secretary):
    MemberFactory(branch=secretary.branch, phone="+22370000088", notes="=not a formula")
    login(client, secretary)
    exported = _export(client)
    before = Member.objects.count()
    preview = _preview(client, _upload(exported))
    assert preview.context["plan"].error_rows == []
    _confirm(client, preview)
    assert Member.objects.count() == before
    assert Member.objects.get(phone_hash=keyed_hash("+22370000088")).notes == "=not a formula"


def test_export_without_contact_rights_has_no_contact_columns():
    headers = MemberResource().get_export_headers()
    assert "phone" not in headers and "legal_name" not in headers and "notes" not in headers
    assert "working_name" in headers


# --- Who may -------------------------------------------------------------------------


@pytest.mark.parametrize("url", [IMPORT_URL, EXPORT_URL])
def test_anonymous_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert reverse("union:login") in response["Location"]


@pytest.mark.parametrize("persona", ["member", "treasurer", "ended_secretary", "crisis_responder"])
@pytest.mark.parametrize("url", [IMPORT_URL, EXPORT_URL])
def test_people_without_the_right_are_refused(client, login, request, persona, url):
    login(client, request.getfixturevalue(persona))
    assert client.get(url).status_code == 403
    assert client.post(url, {"format": "csv"}).status_code == 403


def test_other_branch_secretary_cannot_import_into_bamako(client, login, other_secretary, bamako):
    login(client, other_secretary)
    response = _preview(client, _upload(_csv(",Awa,BKO,,,,,,,,,,")))
    assert "cannot import members into the branch “BKO”" in _row_errors(response)[2][0]
    assert response.context["token"] == ""


@pytest.mark.parametrize("url", [IMPORT_URL, EXPORT_URL])
def test_secretary_opens_the_screens(client, login, secretary, url):
    login(client, secretary)
    assert client.get(url).status_code == 200
