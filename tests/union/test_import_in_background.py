"""Large registers are checked and imported by a worker, with a page that shows how far it
has got: the same preview, errors and result as an import done in the request; a reload
or another web node shows the same page; a worker that dies leaves nothing half-written
and the sweeper runs the step again.

Persona: the BKO secretary (tests/conftest.py). Celery runs tasks eagerly in the tests;
a task queued on commit runs when the test lets the commit callbacks run.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import MemberFactory
from tests.union.test_import_export import IMPORT_URL, _csv
from union.imports import jobs
from union.models import AuditAction, AuditEvent, ExportJob, ImportJob, ImportJobStatus, Member


@pytest.fixture(autouse=True)
def _every_file_in_background(settings, tmp_path):
    settings.IMPORT_BACKGROUND_BYTES = 0
    private = settings.STORAGES["private"]
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {**private, "OPTIONS": {**private["OPTIONS"], "location": str(tmp_path)}},
    }


def _file(*lines: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("register.csv", _csv(*lines).encode(), content_type="text/csv")


ROWS = (",Aminata,BKO,active,,,70 00 00 01,,,,,,", ",Kadi,XYZ,active,,,,,,,,,")


def _upload(client, capture, *lines: str):
    with capture(execute=True):
        response = client.post(IMPORT_URL, {"file": _file(*lines)})
    assert response.status_code == 302
    return ImportJob.objects.get(), response["Location"]


def test_a_large_register_is_previewed_then_imported_by_the_worker(
    client, login, secretary, django_capture_on_commit_callbacks
):
    login(client, secretary)
    job, page = _upload(client, django_capture_on_commit_callbacks, *ROWS)

    assert page == reverse("union:import_job", args=[job.public_id])
    job.refresh_from_db()
    assert job.status == ImportJobStatus.PREVIEWED
    preview = client.get(page)
    body = preview.content.decode()
    assert "Import 1 row" in body  # the same preview as in the request
    assert "no branch with the code “XYZ”" in body
    assert not Member.objects.filter(working_name="Aminata").exists()

    with django_capture_on_commit_callbacks(execute=True):
        client.post(page, {"confirm": "1"})
    done = client.get(page).content.decode()

    assert (
        "Imported: 1 new member, 0 updated, 0 status changes. 1 row with errors was not imported."
        in done
    )
    assert Member.objects.filter(working_name="Aminata").count() == 1
    assert AuditEvent.objects.filter(action=AuditAction.MEMBER_IMPORT).count() == 1
    job.refresh_from_db()
    assert (job.status, job.rows_read, job.rows_checked, job.rows_written) == ("done", 2, 2, 1)
    # A second confirmation (a double click, a reload) imports nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(page, {"confirm": "1"})
    assert Member.objects.filter(working_name="Aminata").count() == 1


def test_while_it_runs_the_page_reloads_itself_and_answers_json(client, login, secretary):
    login(client, secretary)
    client.post(IMPORT_URL, {"file": _file(*ROWS)})  # the task is queued on commit: not yet
    job = ImportJob.objects.get()
    page = reverse("union:import_job", args=[job.public_id])

    response = client.get(page)
    figures = client.get(page, {"format": "json"}).json()

    body = response.content.decode()
    assert '<meta http-equiv="refresh"' in body
    assert "<progress" in body and "js/import-progress.js" in body
    assert "no-store" in response["Cache-Control"]
    assert figures == {
        "status": "checking",
        "running": True,
        "read": 0,
        "checked": 0,
        "written": 0,
        "total": 0,
        "done": 0,
    }


def test_another_officer_never_sees_someone_elses_import(
    client, login, secretary, national_coordinator, django_capture_on_commit_callbacks
):
    login(client, secretary)
    _job, page = _upload(client, django_capture_on_commit_callbacks, *ROWS)
    other = Client()
    login(other, national_coordinator)

    assert other.get(page).status_code == 404
    assert other.post(page, {"confirm": "1"}).status_code == 404


def test_an_import_whose_worker_dies_leaves_nothing_and_runs_again_once(
    client, login, secretary, django_capture_on_commit_callbacks, monkeypatch
):
    login(client, secretary)
    job, page = _upload(client, django_capture_on_commit_callbacks, *ROWS)

    def dies(*args, **kwargs):
        raise SystemExit("worker killed")  # not an error the step handles: it all rolls back

    monkeypatch.setattr("union.services.imports.write_plan", dies)
    with pytest.raises(SystemExit), django_capture_on_commit_callbacks(execute=True):
        client.post(page, {"confirm": "1"})
    monkeypatch.undo()
    job.refresh_from_db()
    assert job.status == ImportJobStatus.IMPORTING  # as the dead worker left it
    assert not Member.objects.filter(working_name="Aminata").exists()
    assert not AuditEvent.objects.filter(action=AuditAction.MEMBER_IMPORT).exists()

    assert jobs.sweep_stale() == 0  # too recent: its task may still be on its way
    ImportJob.objects.filter(pk=job.pk).update(
        updated_at=timezone.now() - jobs.STALE_AFTER - timedelta(seconds=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.sweep_stale() == 1

    job.refresh_from_db()
    assert job.status == ImportJobStatus.DONE
    assert Member.objects.filter(working_name="Aminata").count() == 1


def test_a_register_that_changed_since_the_preview_shows_the_new_preview(
    client, login, secretary, django_capture_on_commit_callbacks
):
    login(client, secretary)
    job, page = _upload(client, django_capture_on_commit_callbacks, *ROWS)
    # Meanwhile someone registers a member with Aminata's phone: the row becomes an update.
    MemberFactory(branch=secretary.branch, phone="+22370000001", working_name="Minata")

    with django_capture_on_commit_callbacks(execute=True):
        client.post(page, {"confirm": "1"})
    job.refresh_from_db()
    body = client.get(page).content.decode()

    assert job.status == ImportJobStatus.PREVIEWED  # asked again, nothing written
    assert "The register changed since the preview" in body
    assert job.preview["updates"] == 1 and job.preview["creates"] == 0
    assert not Member.objects.filter(working_name="Aminata").exists()


def test_small_files_are_still_checked_in_the_request(client, login, secretary, settings):
    settings.IMPORT_BACKGROUND_BYTES = 1024 * 1024
    login(client, secretary)
    response = client.post(IMPORT_URL, {"file": _file(*ROWS)})

    assert response.status_code == 200
    assert "Import 1 row" in response.content.decode()
    assert not ImportJob.objects.exists()


# --- Exports -------------------------------------------------------------------------


def test_a_large_export_is_made_by_the_worker_and_downloaded_from_its_page(
    client, login, secretary, segou, settings, django_capture_on_commit_callbacks
):
    settings.EXPORT_BACKGROUND_ROWS = 0
    MemberFactory(branch=secretary.branch, working_name="Rokia", phone="+22370000077")
    MemberFactory(branch=segou, working_name="Elsewhere")
    login(client, secretary)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("union:export_members"), {"format": "csv"})
    job = ExportJob.objects.get()
    page = reverse("union:export_job", args=[job.public_id])
    assert response["Location"] == page
    assert "Download the file" in client.get(page).content.decode()
    download = client.get(page, {"download": "1"})

    text = download.content.decode("utf-8-sig")
    assert download["Content-Disposition"].startswith('attachment; filename="register-all-')
    assert "Rokia" in text and "'+22370000077" in text  # the same columns as in the request
    assert "Elsewhere" not in text
    assert AuditEvent.objects.filter(action=AuditAction.MEMBER_EXPORT).count() == 1
    # The file is encrypted where it waits.
    assert b"Rokia" not in b"".join(p.read_bytes() for p in settings_private(settings))
    other = Client()
    login(other, secretary)  # the same officer on another device: fine
    assert other.get(page, {"download": "1"}).status_code == 200


def test_small_exports_still_stream_in_the_request(client, login, secretary):
    MemberFactory(branch=secretary.branch, working_name="Rokia")
    login(client, secretary)

    response = client.post(reverse("union:export_members"), {"format": "csv"})

    assert response.status_code == 200 and response.streaming
    assert not ExportJob.objects.exists()


def settings_private(settings) -> list:
    from pathlib import Path

    return list(Path(settings.STORAGES["private"]["OPTIONS"]["location"]).rglob("*.bin"))
