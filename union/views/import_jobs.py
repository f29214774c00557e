"""The page of a register import that runs in a worker (union.imports.jobs).

One address per import, the officer's own: it shows the progress while a worker checks
or imports the file, the preview (the same as an import checked in the request) with the
confirm and cancel buttons, then the result or what went wrong. Without JavaScript the
page reloads itself every few seconds while work is under way; with it, a small script
(static/js/import-progress.js) asks for the figures as JSON and updates them in place.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from union.imports import export_jobs, jobs
from union.models import ImportJob, ImportJobStatus
from union.permissions import Perm
from union.views.guards import office_view
from union.views.transfer import import_summary

REFRESH_SECONDS = 3


class _Count:
    """Stands for a list the template only measures (`rows|length`)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n


def stored_plan(job: ImportJob) -> SimpleNamespace:
    """The stored preview, shaped like the ImportPlan the preview template reads."""
    p = job.preview
    return SimpleNamespace(
        rows=_Count(p.get("rows", 0)),
        creates=p.get("creates", 0),
        updates=p.get("updates", 0),
        status_changes=p.get("status_changes", 0),
        error_rows=_Count(p.get("errors", 0)),
        valid_rows=_Count(p.get("valid", 0)),
        ignored_headers=p.get("ignored_headers", []),
    )


def _rows(job: ImportJob) -> tuple[list[Any], list[Any]]:
    errors = [SimpleNamespace(**row) for row in job.preview.get("error_rows", [])]
    valid = [
        SimpleNamespace(
            **row,
            status_label=jobs.status_label(row["status"]),
            old_status_label=jobs.status_label(row["old_status"]),
        )
        for row in job.preview.get("valid_rows", [])
    ]
    return errors, valid


@office_view(Perm.IMPORT_REGISTER)
def import_job(request: HttpRequest, public_id: str) -> HttpResponse:
    job = jobs.job_for(actor=request.user, public_id=public_id)  # type: ignore[arg-type]
    if job is None:
        raise Http404
    if request.method == "POST":
        if "cancel" in request.POST:
            jobs.cancel_import(actor=request.user, job=job)  # type: ignore[arg-type]
            messages.info(request, _("Nothing was imported."))
            return redirect("union:import_members")
        if "confirm" in request.POST:
            jobs.confirm_import(actor=request.user, job=job)  # type: ignore[arg-type]
        return redirect("union:import_job", public_id=job.public_id)
    figures = jobs.progress(job)
    if request.GET.get("format") == "json":
        done = figures["written"] if job.status == ImportJobStatus.IMPORTING else figures["checked"]
        figures_json = JsonResponse(
            {
                "status": job.status,
                "running": job.running,
                **figures,
                "total": figures["read"],
                "done": done,
            }
        )
        figures_json["Cache-Control"] = "no-store"
        return figures_json
    errors, valid = _rows(job)
    context = {
        "job": job,
        "progress": figures,
        "plan": stored_plan(job),
        "error_rows": errors,
        "valid_rows": valid,
        "more_errors": max(0, job.preview.get("errors", 0) - len(errors)),
        "more_valid": max(0, job.preview.get("valid", 0) - len(valid)),
        "refresh": REFRESH_SECONDS if job.running else 0,
        "statuses": ImportJobStatus,
        "summary": import_summary(SimpleNamespace(**job.result))
        if job.status == ImportJobStatus.DONE
        else "",
    }
    response = render(request, "office/import_job.html", context)
    response["Cache-Control"] = "no-store"
    return response


@office_view(Perm.EXPORT_REGISTER)
def export_job(request: HttpRequest, public_id: str) -> HttpResponse:
    """A large export's page: progress while a worker makes it, then the download."""
    job = export_jobs.job_for(actor=request.user, public_id=public_id)  # type: ignore[arg-type]
    if job is None:
        raise Http404
    written = export_jobs.written(job)
    if request.GET.get("format") == "json":
        figures = JsonResponse(
            {
                "status": job.status,
                "running": job.running,
                "written": written,
                "total": job.rows,
                "done": written,
            }
        )
        figures["Cache-Control"] = "no-store"
        return figures
    if request.GET.get("download"):
        data = export_jobs.file_of(job)
        if data is None:
            raise Http404
        download = HttpResponse(data, content_type=job.content_type)
        download["Content-Disposition"] = f'attachment; filename="{job.filename}"'
        download["Cache-Control"] = "no-store"
        return download
    context = {"job": job, "written": written, "refresh": REFRESH_SECONDS if job.running else 0}
    response = render(request, "office/export_job.html", context)
    response["Cache-Control"] = "no-store"
    return response
