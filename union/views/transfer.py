"""Office screens to import a register (upload, preview, confirm) and to export it."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from union import selectors
from union.imports import export_jobs, jobs, storage
from union.imports.forms import ExportForm, ImportForm
from union.imports.plan import ImportPlan
from union.imports.reading import too_big_message
from union.models import Branch
from union.permissions import Perm
from union.services import imports as import_services
from union.views.guards import office_view

SESSION_KEY = "register_import"
# Room for the multipart envelope and the form's other fields around the file itself.
MULTIPART_OVERHEAD = 64 * 1024
PREVIEW_ERROR_ROWS = jobs.PREVIEW_ERROR_ROWS
PREVIEW_VALID_ROWS = jobs.PREVIEW_VALID_ROWS


class LimitedUploadHandler(FileUploadHandler):
    """Stop reading an upload as soon as it passes the limit, whatever Content-Length said."""

    def __init__(self, limit: int, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.limit = limit
        self.exceeded = False

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.limit:
            self.exceeded = True
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


def _import_branches(request: HttpRequest) -> Any:
    return selectors.branches_for(request.user, Perm.IMPORT_REGISTER)


def _render_upload(
    request: HttpRequest, form: ImportForm | None = None, *, refusal: str = "", status: int = 200
) -> HttpResponse:
    form = form or ImportForm(branches=_import_branches(request))
    return render(request, "office/import.html", {"form": form, "refusal": refusal}, status=status)


# CSRF is checked inside, once the upload limit is in place: Django's CSRF middleware would
# otherwise read (and store) the whole body before this view could refuse it.
@csrf_exempt
@office_view(Perm.IMPORT_REGISTER)
def import_members(request: HttpRequest) -> HttpResponse:
    limiter = None
    if request.method == "POST":
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > settings.IMPORT_MAX_BYTES + MULTIPART_OVERHEAD:
            return _render_upload(request, refusal=too_big_message(), status=413)
        limiter = LimitedUploadHandler(settings.IMPORT_MAX_BYTES, request)
        request.upload_handlers.insert(0, limiter)
    return _import_members(request, limiter)


@csrf_protect
def _import_members(request: HttpRequest, limiter: LimitedUploadHandler | None) -> HttpResponse:
    if request.method != "POST":
        return _render_upload(request)
    if limiter is not None:
        request.POST  # noqa: B018 (parse the body now, through the limiter)
        if limiter.exceeded:
            return _render_upload(request, refusal=too_big_message(), status=413)
    if "confirm" in request.POST:
        return _confirm(request)
    if "cancel" in request.POST:
        _forget_pending(request)
        messages.info(request, _("Nothing was imported."))
        return redirect("union:import_members")
    return _preview(request)


def _preview(request: HttpRequest) -> HttpResponse:
    form = ImportForm(request.POST, request.FILES, branches=_import_branches(request))
    if not form.is_valid():
        return _render_upload(request, form)
    upload = form.cleaned_data["file"]
    data = upload.read(settings.IMPORT_MAX_BYTES + 1)
    default_branch = form.cleaned_data["default_branch"]
    if jobs.runs_in_background(data):
        _forget_pending(request)
        job = jobs.start_import(
            actor=request.user,  # type: ignore[arg-type]
            data=data,
            filename=upload.name,
            default_branch=default_branch,
            language=translation.get_language() or settings.LANGUAGE_CODE,
        )
        return redirect("union:import_job", public_id=job.public_id)
    try:
        plan = import_services.preview_register_import(
            actor=request.user, data=data, filename=upload.name, default_branch=default_branch
        )
    except ValidationError as exc:
        form.add_error("file", exc)
        return _render_upload(request, form)
    _forget_pending(request)
    token = storage.save_pending(data) if plan.valid_rows else ""
    if token:
        request.session[SESSION_KEY] = {
            "token": token,
            "sha256": import_services.fingerprint(data),
            # Only the extension is kept: a file name can itself be personal data.
            "kind": "xlsx" if upload.name.lower().endswith(".xlsx") else "csv",
            "branch": default_branch.pk if default_branch else None,
            "signature": plan.signature,
        }
    return _render_preview(request, plan, token)


def _render_preview(request: HttpRequest, plan: ImportPlan, token: str) -> HttpResponse:
    return render(
        request,
        "office/import_preview.html",
        {
            "plan": plan,
            "token": token,
            "error_rows": plan.error_rows[:PREVIEW_ERROR_ROWS],
            "more_errors": max(0, len(plan.error_rows) - PREVIEW_ERROR_ROWS),
            "valid_rows": plan.valid_rows[:PREVIEW_VALID_ROWS],
            "more_valid": max(0, len(plan.valid_rows) - PREVIEW_VALID_ROWS),
        },
    )


def _confirm(request: HttpRequest) -> HttpResponse:
    pending: dict[str, Any] = request.session.get(SESSION_KEY) or {}
    token = request.POST.get("token", "")
    data = storage.load_pending(token) if pending.get("token") == token else None
    if data is None or import_services.fingerprint(data) != pending["sha256"]:
        _forget_pending(request)
        messages.error(request, _("This preview has expired. Upload the file again."))
        return redirect("union:import_members")
    branch_id = pending.get("branch")
    default_branch = _import_branches(request).filter(pk=branch_id).first() if branch_id else None
    filename = f"register.{pending['kind']}"
    try:
        outcome = import_services.import_register(
            actor=request.user,
            data=data,
            filename=filename,
            default_branch=default_branch,
            expected_signature=pending["signature"],
        )
    except import_services.RegisterChanged as exc:
        messages.error(request, " ".join(exc.messages))
        return _fresh_preview(request, data, filename, default_branch)
    except ValidationError as exc:
        _forget_pending(request)
        messages.error(request, " ".join(exc.messages))
        return redirect("union:import_members")
    _forget_pending(request)
    messages.success(
        request,
        import_summary(outcome),
    )
    return redirect("union:import_members")


def _fresh_preview(
    request: HttpRequest, data: bytes, filename: str, default_branch: Branch | None
) -> HttpResponse:
    """The register moved under the preview: show what importing would do now."""
    plan = import_services.preview_register_import(
        actor=request.user, data=data, filename=filename, default_branch=default_branch
    )
    pending = request.session.get(SESSION_KEY) or {}
    if plan.valid_rows and pending:
        pending["signature"] = plan.signature
        request.session[SESSION_KEY] = pending
        return _render_preview(request, plan, pending["token"])
    _forget_pending(request)
    return _render_preview(request, plan, "")


def _forget_pending(request: HttpRequest) -> None:
    pending = request.session.pop(SESSION_KEY, None)
    if pending:
        storage.discard_pending(pending.get("token", ""))


@office_view(Perm.EXPORT_REGISTER)
def export_members(request: HttpRequest) -> HttpResponse:
    branches = selectors.branches_for(request.user, Perm.EXPORT_REGISTER)
    form = ExportForm(request.POST or None, branches=branches)
    if request.method == "POST" and form.is_valid():
        branch = form.cleaned_data["branch"]
        if export_jobs.runs_in_background(actor=request.user, branch=branch):  # type: ignore[arg-type]
            job = export_jobs.start_export(
                actor=request.user,  # type: ignore[arg-type]
                branch=branch,
                fmt=form.cleaned_data["format"],
            )
            return redirect("union:export_job", public_id=job.public_id)
        export = import_services.export_register(
            actor=request.user,
            branch=form.cleaned_data["branch"],
            fmt=form.cleaned_data["format"],
        )
        response = StreamingHttpResponse(export.chunks, content_type=export.content_type)
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        # office_view is typed for HttpResponse; it only sets a header, which a streaming
        # response takes just the same.
        return cast(HttpResponse, response)
    return render(request, "office/export.html", {"form": form})


def import_summary(outcome: Any) -> str:
    """What an import did, each count with its own plural."""
    parts = [
        ngettext("%(n)s new member", "%(n)s new members", outcome.created) % {"n": outcome.created},
        ngettext("%(n)s updated", "%(n)s updated", outcome.updated) % {"n": outcome.updated},
        ngettext("%(n)s status change", "%(n)s status changes", outcome.status_changes)
        % {"n": outcome.status_changes},
    ]
    summary = _("Imported: %(parts)s.") % {"parts": ", ".join(parts)}
    if outcome.skipped:
        summary += " " + ngettext(
            "%(n)s row with errors was not imported.",
            "%(n)s rows with errors were not imported.",
            outcome.skipped,
        ) % {"n": outcome.skipped}
    return summary
