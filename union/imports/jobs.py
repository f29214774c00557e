"""Register imports that run in a worker: the large ones, which can outlast a request.

An officer uploads a file; it is kept encrypted in the private storage (shared by every
machine) and an ImportJob row says where it stands. A worker checks it (the same preview
as an import made in the request), the officer confirms on the job's page, a worker
imports it (the same service, the same result). Each step is one task that takes the
job's id only.

The job's page reads the row, so it survives a reload and a request landing on another
web node. While a worker runs a step it holds the row locked inside the step's
transaction, and the import itself is written in that same transaction, together with
the job's new state: a worker that dies (SIGKILL, a machine lost) leaves nothing
half-written and the row unlocked, and the sweeper, which skips rows a live worker holds,
queues the step again. Progress (rows read, checked, written) goes to the cache, which
every web node reads: it is not in the row because the row's changes are only visible
once the step commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from union import permissions
from union.imports import storage
from union.imports.plan import ImportPlan
from union.models import Branch, ImportJob, ImportJobStatus, MemberStatus
from union.permissions import Perm

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)

# How many rows of each kind the job's page shows, as the page of an inline import does.
PREVIEW_ERROR_ROWS = 200
PREVIEW_VALID_ROWS = 50
# A step queued or running this long without finishing, and not held by a live worker,
# is queued again (a step merely waiting behind a long queue then runs once: the second
# task finds it done); after MAX_ATTEMPTS the job fails and says so.
STALE_AFTER = timedelta(minutes=5)
MAX_ATTEMPTS = 5
PROGRESS_SECONDS = 24 * 3600


def runs_in_background(data: bytes) -> bool:
    """Large files go to a worker; a small one is checked at once, in the request."""
    return len(data) > settings.IMPORT_BACKGROUND_BYTES


def _progress_key(job: ImportJob) -> str:
    return f"import-job:{job.public_id}"


def progress(job: ImportJob) -> dict[str, int]:
    """Rows read, checked and written so far (from the cache; the row's once finished)."""
    live = cache.get(_progress_key(job)) or {}
    return {
        "read": max(job.rows_read, live.get("read", 0)),
        "checked": max(job.rows_checked, live.get("checked", 0)),
        "written": max(job.rows_written, live.get("written", 0)),
    }


def _reporter(job: ImportJob) -> Callable[[str, int], None]:
    seen: dict[str, int] = {}

    def report(stage: str, rows: int) -> None:
        seen[stage] = rows
        cache.set(_progress_key(job), dict(seen), PROGRESS_SECONDS)

    return report


def start_import(
    *,
    actor: User,
    data: bytes,
    filename: str,
    default_branch: Branch | None,
    language: str,
) -> ImportJob:
    """Keep the upload and queue its check. Side effects: a pending file, a task."""
    permissions.require(actor, Perm.IMPORT_REGISTER)
    from union.services import imports as import_services

    token = storage.save_pending(data)
    with transaction.atomic():
        job = ImportJob.objects.create(
            actor=actor,
            default_branch=default_branch,
            kind="xlsx" if filename.lower().endswith(".xlsx") else "csv",
            token=token,
            sha256=import_services.fingerprint(data),
            language=language,
            status=ImportJobStatus.CHECKING,
        )
        _queue(job.pk)
    return job


def _queue(job_id: int) -> None:
    from union.tasks import run_import_job

    # robust: the job is saved; a broker that is away must not make the officer's upload
    # fail. The sweeper queues it when the broker is back.
    def queue_after_commit() -> None:
        run_import_job.delay(job_id)

    transaction.on_commit(queue_after_commit, robust=True)


def job_for(*, actor: User, public_id: Any) -> ImportJob | None:
    """The officer's own job; nobody else's (another officer's file is not theirs to see)."""
    return ImportJob.objects.filter(public_id=public_id, actor=actor).first()


def confirm_import(*, actor: User, job: ImportJob) -> ImportJob:
    """The officer confirmed the preview: queue the import itself."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk, actor=actor)
        if job.status != ImportJobStatus.PREVIEWED:
            return job  # a second click, or it has moved on: nothing to do
        job.status = ImportJobStatus.IMPORTING
        job.attempts = 0
        job.save(update_fields=["status", "attempts", "updated_at"])
        _queue(job.pk)
    return job


def cancel_import(*, actor: User, job: ImportJob) -> ImportJob:
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk, actor=actor)
        if job.status in (ImportJobStatus.DONE, ImportJobStatus.IMPORTING):
            return job  # an import under way finishes or rolls back whole
        job.status = ImportJobStatus.CANCELLED
        job.save(update_fields=["status", "updated_at"])
        token = job.token
        transaction.on_commit(lambda: storage.discard_pending(token))
    return job


def run_step(job_id: int) -> str:
    """Run the job's next step (check or import), unless a live worker holds it."""
    from union.services import imports as import_services

    with transaction.atomic():
        job = (
            ImportJob.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("actor", "default_branch")
            .filter(pk=job_id, status__in=(ImportJobStatus.CHECKING, ImportJobStatus.IMPORTING))
            .first()
        )
        if job is None:
            return "skipped"
        data = storage.load_pending(job.token)
        with translation.override(job.language or settings.LANGUAGE_CODE):
            if data is None or import_services.fingerprint(data) != job.sha256:
                _finish(job, ImportJobStatus.FAILED, error=str(EXPIRED))
            elif job.status == ImportJobStatus.CHECKING:
                _check(job, data)
            else:
                _import(job, data)
        return str(job.status)


EXPIRED = _("This preview has expired. Upload the file again.")


def _filename(job: ImportJob) -> str:
    return f"register.{job.kind}"


def _check(job: ImportJob, data: bytes) -> None:
    from union.services import imports as import_services

    try:
        plan = import_services.preview_register_import(
            actor=job.actor,
            data=data,
            filename=_filename(job),
            default_branch=job.default_branch,
            progress=_reporter(job),
        )
    except (ValidationError, PermissionDenied) as exc:
        _finish(job, ImportJobStatus.FAILED, error=_message(exc))
        return
    _store_preview(job, plan)


def _store_preview(job: ImportJob, plan: ImportPlan, note: str = "") -> None:
    job.preview = {
        "rows": len(plan.rows),
        "creates": plan.creates,
        "updates": plan.updates,
        "status_changes": plan.status_changes,
        "errors": len(plan.error_rows),
        "valid": len(plan.valid_rows),
        "ignored_headers": list(plan.ignored_headers),
        "error_rows": [
            {
                "line": r.line,
                "number": r.number,
                "working_name": r.working_name,
                "branch_code": r.branch_code,
                "errors": [str(e) for e in r.errors],
            }
            for r in plan.error_rows[:PREVIEW_ERROR_ROWS]
        ],
        "valid_rows": [
            {
                "line": r.line,
                "number": r.number,
                "working_name": r.working_name,
                "branch_code": r.branch_code,
                "is_update": r.is_update,
                "changes_status": r.changes_status,
                "status": r.status or r.old_status,
                "old_status": r.old_status,
            }
            for r in plan.valid_rows[:PREVIEW_VALID_ROWS]
        ],
        "note": note,
    }
    job.signature = plan.signature
    job.rows_read = job.rows_checked = len(plan.rows)
    if plan.valid_rows:
        job.status = ImportJobStatus.PREVIEWED
        fields = ["preview", "signature", "rows_read", "rows_checked", "status", "updated_at"]
        job.save(update_fields=fields)
    else:
        _finish(job, ImportJobStatus.FAILED, error="", fields=["preview", "signature"])


def _import(job: ImportJob, data: bytes) -> None:
    from union.services import imports as import_services

    try:
        # A savepoint: what the import wrote goes if it fails, the job's new state stays.
        with transaction.atomic():
            outcome = import_services.import_register(
                actor=job.actor,
                data=data,
                filename=_filename(job),
                default_branch=job.default_branch,
                expected_signature=job.signature,
                progress=_reporter(job),
            )
    except import_services.RegisterChanged as exc:
        plan = import_services.preview_register_import(
            actor=job.actor, data=data, filename=_filename(job), default_branch=job.default_branch
        )
        _store_preview(job, plan, note=_message(exc))
        return
    except (ValidationError, PermissionDenied) as exc:
        _finish(job, ImportJobStatus.FAILED, error=_message(exc))
        return
    job.result = {
        "created": outcome.created,
        "updated": outcome.updated,
        "status_changes": outcome.status_changes,
        "skipped": outcome.skipped,
    }
    job.rows_written = outcome.created + outcome.updated
    # In the import's own transaction: the job says "done" exactly when the rows are in.
    _finish(job, ImportJobStatus.DONE, fields=["result", "rows_written"])


def _finish(
    job: ImportJob, status: str, *, error: str = "", fields: list[str] | None = None
) -> None:
    job.status = status
    job.error = error[:500]
    job.save(update_fields=["status", "error", "updated_at", *(fields or [])])
    token = job.token
    transaction.on_commit(lambda: storage.discard_pending(token))


def _message(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(str(m) for m in exc.messages)
    return str(PermissionDenied.__name__)


def sweep_stale() -> int:
    """Queue again the steps nobody is running (lost task, dead worker). Rows a live
    worker holds are skipped (it has them locked). After MAX_ATTEMPTS the job fails."""
    queued = 0
    with transaction.atomic():
        stale = ImportJob.objects.select_for_update(skip_locked=True).filter(
            status__in=(ImportJobStatus.CHECKING, ImportJobStatus.IMPORTING),
            updated_at__lt=timezone.now() - STALE_AFTER,
        )
        for job in stale:
            if job.attempts >= MAX_ATTEMPTS:
                with translation.override(job.language or settings.LANGUAGE_CODE):
                    _finish(job, ImportJobStatus.FAILED, error=str(GAVE_UP))
                continue
            job.attempts += 1
            job.save(update_fields=["attempts", "updated_at"])
            _queue(job.pk)
            queued += 1
    return queued


GAVE_UP = _("The import could not be completed. Nothing was imported; upload the file again.")


def status_label(value: str) -> str:
    return str(MemberStatus(value).label) if value in MemberStatus.values else ""
