"""Register import and export: the services behind the office's import and export screens."""

from __future__ import annotations

import gc
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from import_export.formats import base_formats

from union import permissions
from union.exports import export_resource
from union.imports.plan import ImportPlan, build_plan
from union.imports.reading import Sheet, read_sheet
from union.imports.writer import WriteResult, write_plan
from union.models import AuditAction, Branch, Member, MemberStatus
from union.permissions import Perm
from union.resources import MemberResource
from union.services.audit import record_access

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from union.permissions import AnyUser

EXPORT_FORMATS = {"csv": base_formats.CSV, "xlsx": base_formats.XLSX}


class RegisterChanged(ValidationError):
    """The register changed between the preview and the confirmation."""


@dataclass(frozen=True)
class ImportOutcome:
    created: int
    updated: int
    status_changes: int
    skipped: int


@contextmanager
def _without_cycle_collector() -> Iterator[None]:
    """Pause Python's cycle collector while a file is checked and written.

    A 100,000-row register makes millions of small objects that reference counting frees
    on its own; left on, the collector rescans them over and over and costs a third of the
    import. It is switched back on (and catches up) as soon as the work is done.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def fingerprint(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _import_scope(actor: AnyUser) -> permissions.Scope:
    permissions.require(actor, Perm.IMPORT_REGISTER)
    return permissions.scope_for(actor, Perm.IMPORT_REGISTER)


# Told how far the work has gone: ("read" | "checked" | "written", rows so far).
Progress = Callable[[str, int], None]


def _silent(stage: str, rows: int) -> None:
    pass


def preview_register_import(
    *,
    actor: AnyUser,
    data: bytes,
    filename: str,
    default_branch: Branch | None = None,
    progress: Progress = _silent,
) -> ImportPlan:
    """What importing this file would do, row by row. Writes nothing.

    Raises ImportFileError (a ValidationError) when the file cannot be read at all.
    """
    scope = _import_scope(actor)
    with _without_cycle_collector():
        sheet = read_sheet(data, filename)
        progress("read", len(sheet.rows))
        branches = {b.code: b for b in Branch.objects.all()}
        plan = build_plan(
            sheet=sheet, scope=scope, branches=branches, default_branch=default_branch
        )
        progress("checked", len(plan.rows))
        return plan


def import_register(
    *,
    actor: AnyUser,
    data: bytes,
    filename: str,
    default_branch: Branch | None = None,
    expected_signature: str | None = None,
    method: str = "auto",
    progress: Progress = _silent,
) -> ImportOutcome:
    """Import the file's valid rows in one transaction; rows with errors are skipped.

    The file is checked again inside the transaction, with its branches locked (so no
    membership number can be issued meanwhile). If `expected_signature` (the plan's
    signature in the preview the officer saw) no longer matches, nothing is written and
    RegisterChanged is raised. Creates members and their status history, updates matched
    members, moves branch number sequences past imported numbers, writes one audit row.
    No message is sent to anyone.
    """
    scope = _import_scope(actor)
    with _without_cycle_collector():
        sheet = read_sheet(data, filename)
        progress("read", len(sheet.rows))
        try:
            plan, result = _import_sheet(
                actor=actor,
                sheet=sheet,
                scope=scope,
                default_branch=default_branch,
                expected_signature=expected_signature,
                method=method,
                target=f"import:{fingerprint(data)[:16]}",
                progress=progress,
            )
        except IntegrityError as exc:
            # A phone or number registered by someone else while we were writing.
            raise RegisterChanged(
                _("The register changed while importing, so nothing was imported. Try again.")
            ) from exc
    return ImportOutcome(
        created=result.created,
        updated=result.updated,
        status_changes=result.status_changes,
        skipped=len(plan.error_rows),
    )


@transaction.atomic
def _import_sheet(
    *,
    actor: AnyUser,
    sheet: Sheet,
    scope: permissions.Scope,
    default_branch: Branch | None,
    expected_signature: str | None,
    method: str,
    target: str,
    progress: Progress,
) -> tuple[ImportPlan, WriteResult]:
    codes = _branch_codes(sheet)
    if default_branch is not None:
        codes.add(default_branch.code)
    # Locked in a fixed order so that two imports cannot deadlock each other.
    list(Branch.objects.select_for_update().filter(code__in=codes).order_by("pk"))
    branches = {b.code: b for b in Branch.objects.all()}
    plan = build_plan(sheet=sheet, scope=scope, branches=branches, default_branch=default_branch)
    progress("checked", len(plan.rows))
    if expected_signature is not None and plan.signature != expected_signature:
        raise RegisterChanged(_("The register changed since the preview. Check the new preview."))
    if not plan.valid_rows:
        raise ValidationError(_("No row of this file can be imported."))
    # Only a signed-in officer holds IMPORT_REGISTER (checked by _import_scope).
    result = write_plan(plan, actor=cast("User", actor), method=method)
    progress("written", result.created + result.updated)
    only_branch = (
        plan.branches.get(next(iter(plan.branch_ids))) if len(plan.branch_ids) == 1 else None
    )
    record_access(
        actor=actor,
        action=AuditAction.MEMBER_IMPORT,
        target=target,
        branch=only_branch,
        rows=result.created + result.updated,
    )
    return plan, result


def _branch_codes(sheet: Sheet) -> set[str]:
    """The branch codes the file names, to lock those branches before checking the rows."""
    if "branch" not in sheet.mapped:
        return set()
    position = sheet.columns.index("branch")
    return {cells[position].upper() for _line, cells in sheet.rows}


@dataclass(frozen=True)
class RegisterExport:
    """A ready-to-send export: `chunks` yields the file's bytes (CSV streams as it goes)."""

    filename: str
    content_type: str
    rows: int
    chunks: Iterator[bytes]


def _exported_members(actor: AnyUser, branch: Branch | None) -> Any:
    members = Member.objects.exclude(status__in=[MemberStatus.APPLICANT, MemberStatus.REJECTED])
    qs = permissions.visible(members, actor, Perm.EXPORT_REGISTER)
    return qs.filter(branch=branch) if branch is not None else qs


def export_size(*, actor: AnyUser, branch: Branch | None = None) -> int:
    """How many members an export would hold (to choose the request or a worker)."""
    permissions.require(actor, Perm.EXPORT_REGISTER, branch)
    return int(_exported_members(actor, branch).count())


def export_register(
    *, actor: AnyUser, branch: Branch | None = None, fmt: str = "csv"
) -> RegisterExport:
    """The register of the actor's branches (or one of them) as CSV or XLSX.

    Contact columns only for branches where the actor has VIEW_CONTACT; every text cell
    that a spreadsheet would run as a formula is neutralised. Writes one audit row with the
    number of members exported, before the file is produced.
    """
    permissions.require(actor, Perm.EXPORT_REGISTER, branch)
    if fmt not in EXPORT_FORMATS:
        raise ValidationError(_("Choose CSV or XLSX."))
    contact = permissions.scope_for(actor, Perm.VIEW_CONTACT)
    resource = MemberResource(
        contact_branch_ids=contact.branch_ids, contact_everywhere=contact.everywhere
    )
    qs = _exported_members(actor, branch).select_related("branch")
    qs = qs.order_by("branch__code", "number", "id")
    if not resource.includes_contact:
        qs = qs.defer("legal_name", "phone", "email", "notes")
    with transaction.atomic():
        count = qs.count()
        record_access(
            actor=actor,
            action=AuditAction.MEMBER_EXPORT,
            target=f"export:{fmt}",
            branch=branch,
            rows=count,
        )
    file_format = EXPORT_FORMATS[fmt]()
    stamp = timezone.localdate().isoformat()
    name = f"register-{branch.code if branch else 'all'}-{stamp}.{file_format.get_extension()}"
    chunks = export_resource(resource, qs, fmt, sheet="register")
    return RegisterExport(
        filename=name, content_type=file_format.get_content_type(), rows=count, chunks=chunks
    )
