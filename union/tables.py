from __future__ import annotations

from typing import Any

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from union.models import Member, RoleAssignment
from union.registry import StandingDisplay


class StandingColumn(tables.Column):
    """Where a member stands on dues, in the dues app's words (rows annotated `standing`)."""

    def __init__(self, display: StandingDisplay, **kwargs: Any) -> None:
        super().__init__(verbose_name=_("Dues"), orderable=False, **kwargs)
        self.display = display

    def render(self, value: str) -> Any:
        return self.display.label(value)


class MemberTable(tables.Table):
    label = _("Member register")  # names the scrolling region around the table
    number = tables.Column(
        verbose_name=_("Number"),
        linkify=("union:member_detail", {"public_id": tables.A("public_id")}),
    )
    working_name = tables.Column(
        verbose_name=_("Working name"),
        linkify=("union:member_detail", {"public_id": tables.A("public_id")}),
    )
    branch = tables.Column(verbose_name=_("Branch"), accessor="branch__code", orderable=False)
    status = tables.Column(verbose_name=_("Status"), orderable=False)

    class Meta:
        model = Member
        fields = ("number", "working_name", "branch", "status")
        orderable = True
        attrs = {"class": "table"}

    def __init__(self, *args: Any, standing: StandingDisplay | None = None, **kwargs: Any) -> None:
        extra = [("standing", StandingColumn(standing))] if standing is not None else []
        super().__init__(*args, extra_columns=extra, **kwargs)


class ApplicantTable(tables.Table):
    label = _("Applications waiting")
    working_name = tables.Column(
        verbose_name=_("Working name"),
        linkify=("union:applicant", {"public_id": tables.A("public_id")}),
    )
    branch = tables.Column(verbose_name=_("Branch"), accessor="branch__code")
    applied_at = tables.DateColumn(verbose_name=_("Applied"), short=True)
    source = tables.Column(verbose_name=_("How"))

    class Meta:
        model = Member
        fields = ("working_name", "branch", "applied_at", "source")
        orderable = False
        attrs = {"class": "table"}


class RoleTable(tables.Table):
    label = _("Roles")
    member = tables.Column(verbose_name=_("Member"), accessor="member__working_name")
    number = tables.Column(verbose_name=_("Number"), accessor="member__number")
    role = tables.Column(verbose_name=_("Role"))
    branch = tables.Column(verbose_name=_("Branch"), accessor="branch__name")
    starts_on = tables.DateColumn(verbose_name=_("From"), short=True)
    ends_on = tables.DateColumn(verbose_name=_("Until"), short=True)
    actions = tables.TemplateColumn(
        template_name="office/includes/role_actions.html",
        verbose_name=_("Actions"),
        orderable=False,
    )

    class Meta:
        model = RoleAssignment
        fields = ("member", "number", "role", "branch", "starts_on", "ends_on")
        orderable = False
        attrs = {"class": "table"}
