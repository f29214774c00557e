"""Key rotation re-encrypts the welfare supporting documents, one at a time, crash-safe.

Personas: awa applies with documents; committee_c reads them (the committee only).
"""

from __future__ import annotations

import io
import os
import time
from contextlib import contextmanager

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from dues.welfare import documents as stored
from dues.welfare.models import ApplicationDocument
from dues.welfare.services import applications
from tests.dues.welfare.conftest import submit
from tests.union.conftest import rotation_role  # noqa: F401 - a fixture
from union.management.commands.rotate_field_keys import Command

pytestmark = pytest.mark.django_db

PDFS = [b"%PDF-1.4\n% first\n%%EOF\n", b"%PDF-1.4\n% second\n%%EOF\n"]


@pytest.fixture
def documents(awa, funded):
    application = submit(awa, uploads=[applications.Upload(pdf) for pdf in PDFS])
    return list(application.documents.order_by("pk"))


def _read(document: ApplicationDocument, reader) -> bytes:
    document = ApplicationDocument.objects.select_related("application").get(pk=document.pk)
    return applications.read_document(actor=reader.user, document=document)


def _rotate() -> str:
    out = io.StringIO()
    call_command("rotate_field_keys", stdout=out)
    return out.getvalue()


def test_rotation_re_encrypts_the_documents_and_the_old_key_can_go(
    settings,
    documents,
    committee_c,
    rotation_role,  # noqa: F811
):
    old_names = [d.file.name for d in documents]
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *settings.FIELD_ENCRYPTION_KEYS]

    assert "welfare documents: 2 files re-encrypted" in _rotate()

    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert [_read(d, committee_c) for d in documents] == PDFS
    storage = ApplicationDocument._meta.get_field("file").storage
    assert not any(storage.exists(name) for name in old_names)


def test_a_rotation_stopped_halfway_leaves_every_document_readable_and_finishes_later(
    settings,
    documents,
    committee_c,
    monkeypatch,
    rotation_role,  # noqa: F811
):
    old_keys = list(settings.FIELD_ENCRYPTION_KEYS)
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, *old_keys]
    real = Command._rewriting
    calls = []

    @contextmanager
    def crashing(self):
        calls.append(1)
        if len(calls) == 2:  # the second document: its new file is written, then a crash
            raise KeyboardInterrupt
        with real(self) as cursor:
            yield cursor

    monkeypatch.setattr(Command, "_rewriting", crashing)
    with pytest.raises(KeyboardInterrupt):
        _rotate()
    monkeypatch.undo()

    first, second = documents
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert _read(first, committee_c) == PDFS[0]  # done: the new key alone reads it
    settings.FIELD_ENCRYPTION_KEYS = old_keys  # (the fields were all rotated before)
    second.refresh_from_db()
    with second.file.open("rb") as handle:  # not done: still the old file, whole
        assert stored.decrypt(handle.read()) == PDFS[1]

    storage = ApplicationDocument._meta.get_field("file").storage
    assert len(_files_of(storage, second)) == 2  # its old file, and the new copy nobody names

    settings.FIELD_ENCRYPTION_KEYS = [new_key, *old_keys]
    assert "welfare documents: 1 files re-encrypted" in _rotate()  # the first is skipped
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert [_read(d, committee_c) for d in documents] == PDFS
    for document in documents:  # the stopped run's copy is gone: one file each
        document.refresh_from_db()
        assert _files_of(storage, document) == [document.file.name]


def test_a_stopped_run_s_copy_under_the_old_key_is_deleted_by_the_next_run(
    settings,
    documents,
    rotation_role,  # noqa: F811
):
    """Stopped after a row moved to its new file but before the old file was deleted: that
    copy is under the key being retired, perhaps because it leaked."""
    first = documents[0]
    storage = ApplicationDocument._meta.get_field("file").storage
    with storage.open(first.file.name, "rb") as handle:
        token = handle.read()
    left_behind = storage.save(
        f"{first.public_id.hex[:2]}/{first.public_id.hex}.0badf00d.bin", io.BytesIO(token)
    )
    settings.FIELD_ENCRYPTION_KEYS = [
        Fernet.generate_key().decode(),
        *settings.FIELD_ENCRYPTION_KEYS,
    ]

    _rotate()

    first.refresh_from_db()
    assert not storage.exists(left_behind)
    assert _files_of(storage, first) == [first.file.name]


def test_files_no_document_names_go_once_a_day_old_and_young_ones_stay(
    settings,
    documents,
    rotation_role,  # noqa: F811
):
    """A failed upload's file (its row never written) is deleted a day later; a younger one
    may be an upload still being written."""
    storage = ApplicationDocument._meta.get_field("file").storage
    old = storage.save(f"ab/{'ab' * 16}.bin", io.BytesIO(b"encrypted bytes"))
    young = storage.save(f"cd/{'cd' * 16}.bin", io.BytesIO(b"encrypted bytes"))
    day_ago = time.time() - 25 * 3600
    os.utime(storage.path(old), (day_ago, day_ago))
    settings.FIELD_ENCRYPTION_KEYS = [
        Fernet.generate_key().decode(),
        *settings.FIELD_ENCRYPTION_KEYS,
    ]

    _rotate()

    assert not storage.exists(old)
    assert storage.exists(young)
    for document in documents:
        document.refresh_from_db()
        assert storage.exists(document.file.name)


def _files_of(storage, document: ApplicationDocument) -> list[str]:
    directory = document.public_id.hex[:2]
    return [
        f"{directory}/{name}"
        for name in storage.listdir(directory)[1]
        if name.startswith(document.public_id.hex)
    ]
