"""Large register exports, made by a worker and downloaded from their own page.

A small export streams in the request as before. Above EXPORT_BACKGROUND_ROWS members a
worker makes the file (the same service, the same columns, the same audit row), keeps it
encrypted in the private storage shared by every machine, and the officer's page (which
survives a reload and another web node) offers it for download once it is ready, for an
hour. As with imports, the worker holds the job's row locked in the transaction that
writes the audit row and marks the job done: a worker that dies leaves the job to the
sweeper, which makes the file again.
"""

from __future__ import annotations

import io
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from union.imports import storage
from union.models import Branch, ExportJob, ExportJobStatus

if TYPE_CHECKING:
    from django.contrib.auth.models import User

FOLDER = "exports"
STALE_AFTER = timedelta(minutes=5)
MAX_ATTEMPTS = 5
KEEP_FOR = timedelta(seconds=storage.PENDING_SECONDS)
GAVE_UP = _("The export could not be made. Try again.")


def runs_in_background(*, actor: User, branch: Branch | None) -> bool:
    from union.services import imports as import_services

    return import_services.export_size(actor=actor, branch=branch) > (
        settings.EXPORT_BACKGROUND_ROWS
    )


def start_export(*, actor: User, branch: Branch | None, fmt: str) -> ExportJob:
    """Queue the export; its file is made by a worker. Side effect: a task."""
    from union.services import imports as import_services

    rows = import_services.export_size(actor=actor, branch=branch)  # checks the permission
    with transaction.atomic():
        job = ExportJob.objects.create(actor=actor, branch=branch, fmt=fmt, rows=rows)
        _queue(job.pk)
    return job


def _queue(job_id: int) -> None:
    from union.tasks import run_export_job

    def queue_after_commit() -> None:
        run_export_job.delay(job_id)

    transaction.on_commit(queue_after_commit, robust=True)


def job_for(*, actor: User, public_id: Any) -> ExportJob | None:
    return ExportJob.objects.filter(public_id=public_id, actor=actor).first()


def written(job: ExportJob) -> int:
    """Members written to the file so far."""
    if job.status == ExportJobStatus.DONE:
        return job.rows
    return int(cache.get(f"export-job:{job.public_id}") or 0)


def run(job_id: int) -> str:
    from union.services import imports as import_services

    with transaction.atomic():
        job = (
            ExportJob.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("actor", "branch")
            .filter(pk=job_id, status=ExportJobStatus.RUNNING)
            .first()
        )
        if job is None:
            return "skipped"
        try:
            export = import_services.export_register(
                actor=job.actor, branch=job.branch, fmt=job.fmt
            )
        except (ValidationError, PermissionDenied) as exc:
            job.status = ExportJobStatus.FAILED
            job.error = str(exc)[:500] if isinstance(exc, ValidationError) else "PermissionDenied"
            job.save(update_fields=["status", "error", "updated_at"])
            return str(job.status)
        out = io.BytesIO()
        key = f"export-job:{job.public_id}"
        for n, chunk in enumerate(export.chunks, start=1):
            out.write(chunk)
            if n % 20 == 0:  # CSV chunks hold 500 members each
                cache.set(key, min(export.rows, n * 500), 3600)
        token = storage.save_pending(out.getvalue(), folder=FOLDER)
        job.status = ExportJobStatus.DONE
        job.rows = export.rows
        job.filename = export.filename
        job.content_type = export.content_type
        job.token = token
        # A worker that dies before the commit leaves a file no job names: the storage's
        # sweep removes it within the hour.
        job.save(
            update_fields=["status", "rows", "filename", "content_type", "token", "updated_at"]
        )
    return str(job.status)


def file_of(job: ExportJob) -> bytes | None:
    """The finished file, or None once it has expired."""
    if job.status != ExportJobStatus.DONE:
        return None
    return storage.load_pending(job.token, folder=FOLDER)


def sweep_stale() -> int:
    """Make again the files nobody is making; forget the ones kept long enough."""
    queued = 0
    now = timezone.now()
    with transaction.atomic():
        for job in ExportJob.objects.select_for_update(skip_locked=True).filter(
            status=ExportJobStatus.RUNNING, updated_at__lt=now - STALE_AFTER
        ):
            if job.attempts >= MAX_ATTEMPTS:
                job.status = ExportJobStatus.FAILED
                job.error = str(GAVE_UP)
                job.save(update_fields=["status", "error", "updated_at"])
                continue
            job.attempts += 1
            job.save(update_fields=["attempts", "updated_at"])
            _queue(job.pk)
            queued += 1
        for job in ExportJob.objects.select_for_update(skip_locked=True).filter(
            status=ExportJobStatus.DONE, updated_at__lt=now - KEEP_FOR
        ):
            storage.discard_pending(job.token, folder=FOLDER)
            job.status = ExportJobStatus.EXPIRED
            job.save(update_fields=["status", "updated_at"])
    storage.sweep_expired(FOLDER)
    return queued
