"""Supporting documents: what a file really is (by its bytes), and its encryption at rest.

A name or a browser's content type proves nothing; the first bytes do. Only PDF and the
common photo formats are accepted, and images must open as images. The bytes are then
encrypted with the field keys (union.crypto) before they touch the disk, so a copied
media directory reveals nothing.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from io import BytesIO
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.utils import timezone
from django.utils.translation import gettext as _

from union.crypto import fernet

MAX_BYTES = 5 * 1024 * 1024
MAX_PER_APPLICATION = 10


@dataclass(frozen=True)
class Checked:
    content: bytes
    content_type: str
    sha256: str

    @property
    def extension(self) -> str:
        return {"application/pdf": "pdf", "image/png": "png", "image/webp": "webp"}.get(
            self.content_type, "jpg"
        )


def sniff(content: bytes) -> str:
    """The content type the bytes show, or "" when they are none of those accepted."""
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    return ""


def _image_opens(content: bytes) -> bool:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(BytesIO(content)) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        return False
    return True


def check(content: bytes) -> Checked:
    """Accept a PDF or a photo; raise a translated ValidationError for anything else."""
    if not content:
        raise ValidationError(_("The file is empty."), code="empty")
    if len(content) > MAX_BYTES:
        raise ValidationError(
            _("The file is larger than %(size)s MB.") % {"size": MAX_BYTES // (1024 * 1024)},
            code="too_large",
        )
    content_type = sniff(content)
    ok = bool(content_type) and (
        b"%%EOF" in content[-2048:] if content_type == "application/pdf" else _image_opens(content)
    )
    if not ok:
        raise ValidationError(
            _("Send a PDF or a photo (JPEG, PNG or WebP). This file is neither."),
            code="file_type",
        )
    return Checked(
        content=content, content_type=content_type, sha256=hashlib.sha256(content).hexdigest()
    )


def encrypt(content: bytes) -> bytes:
    return fernet().encrypt(content)


def decrypt(token: bytes) -> bytes:
    return fernet().decrypt(token)


# --- key rotation --------------------------------------------------------------------------

ROTATE_BATCH = 100  # ids read at a time; the files themselves one by one
# A document's file: <2 hex>/<its public id>.bin, or .<8 hex>.bin once rotated; Django adds
# _<7 characters> when a name is taken.
_FILE_NAME = re.compile(r"(?P<id>[0-9a-f]{32})(?:\.[0-9a-f]{8})?(?:_[0-9A-Za-z]{7})?\.bin")
# A file that no document row names, this old, was left by an upload that failed or a
# rotation that stopped; younger, it may belong to an upload still being written.
ORPHAN_AGE = timedelta(days=1)


def _stored_files(storage: Storage) -> dict[str, list[str]]:
    """Every document file in the storage, by the public id (hex) it was written for."""
    found: dict[str, list[str]] = defaultdict(list)
    try:
        directories, _files = storage.listdir("")
    except FileNotFoundError:  # no document was ever stored
        return found
    for directory in directories:
        if re.fullmatch(r"[0-9a-f]{2}", directory):
            for name in storage.listdir(directory)[1]:
                if match := _FILE_NAME.fullmatch(name):
                    found[match["id"]].append(f"{directory}/{name}")
    return found


def rotate_stored(rewriting: Callable[[], Any]) -> int:
    """Re-encrypt every stored document under the newest field key (rotate_field_keys).

    One document at a time, never two in memory: the new token goes to a new file, the
    document's row is pointed at it in a short transaction, and only after that commit is
    the old file removed. Stopped at any moment, each document is readable: its row
    points at a complete file under the old key or the new one (both are configured
    during a rotation), and running again skips documents already under the new key.

    What a stopped run left behind (a copy under the old key, which may be the key being
    retired because it leaked, or a new copy no row points at) is deleted by the next
    run: every file of a document other than the one its row names, and files of no
    document older than ORPHAN_AGE. Otherwise they would outlive the key's retirement and
    the document's erasure.
    """
    from dues.welfare.models import ApplicationDocument

    newest = Fernet(settings.FIELD_ENCRYPTION_KEYS[0])
    table = ApplicationDocument._meta.db_table
    storage = ApplicationDocument._meta.get_field("file").storage
    files = _stored_files(storage)
    rotated = 0
    last = 0
    while True:
        batch = list(
            ApplicationDocument.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "public_id", "file")[:ROTATE_BATCH]
        )
        if not batch:
            break
        for pk, public_id, old_name in batch:
            last = pk
            current = _rotate_one(rewriting, storage, newest, table, pk, public_id, old_name)
            rotated += current not in (None, old_name)
            strays = files.pop(public_id.hex, [])
            if current is not None:
                for name in strays:
                    if name != current:
                        storage.delete(name)
    _delete_orphans(storage, [name for names in files.values() for name in names])
    return rotated


def _rotate_one(
    rewriting: Callable[[], Any],
    storage: Storage,
    newest: Fernet,
    table: str,
    pk: int,
    public_id: uuid.UUID,
    old_name: str,
) -> str | None:
    """The file the document's row names once its file is under the newest key (None if
    the row changed meanwhile: somebody else's file now, which this leaves alone)."""
    with storage.open(old_name, "rb") as handle:
        token = handle.read()
    try:
        newest.decrypt(token)
        return old_name  # already under the newest key (a run that was stopped)
    except InvalidToken:
        pass
    fresh = fernet().rotate(token)
    new_name = storage.save(
        f"{public_id.hex[:2]}/{public_id.hex}.{secrets.token_hex(4)}.bin", ContentFile(fresh)
    )
    with rewriting() as cursor:
        cursor.execute(
            f"UPDATE {table} SET file = %s WHERE id = %s AND file = %s",  # noqa: S608
            [new_name, pk, old_name],
        )
        moved = cursor.rowcount == 1
    if moved:
        storage.delete(old_name)
        return new_name
    storage.delete(new_name)  # the row changed meanwhile: keep its file, drop ours
    return None


def _delete_orphans(storage: Storage, names: list[str]) -> None:
    if not names:
        return
    cutoff = timezone.now() - ORPHAN_AGE
    for name in names:
        if storage.get_modified_time(name) < cutoff:
            storage.delete(name)
