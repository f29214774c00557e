"""What the union holds on a member, as she downloads it from her account: the core's part
(her details as she gave them, her status history, her roles, the messages sent to her)
and each app's (union.registry.register_personal_data).

Officers' notes and the reasons they wrote in her status history are not included (they
may name other people or her safety); the page says so and who to ask. Her phone shows
as her profile shows it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.utils import formats
from django.utils.translation import gettext as _

from union import registry
from union.models import ContactPreference, Member, MemberStatus, Role
from union.registry import DataSection

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def sections_for(user: User) -> list[DataSection]:
    """The signed-in member's own data, never anyone else's. Call with her language active."""
    member = Member.objects.select_related("branch").get(user=user)
    sections = [
        _about(member),
        _status_history(member),
        _moves(member),
        _roles(member),
        _messages(member),
    ]
    for provider in registry.personal_data_providers():
        sections.extend(provider(member))
    return [s for s in sections if s.rows]


def _yes_no(value: bool) -> str:
    return _("yes") if value else _("no")


def _about(member: Member) -> DataSection:
    rows: list[tuple[Any, ...]] = [
        (_("Working name"), member.working_name),
        (_("Membership number"), member.number or ""),
        (_("Branch"), member.branch.name),
        (_("Status"), member.get_status_display()),
        (_("Member since"), member.joined_on or ""),
        (_("Applied on"), member.applied_at.date()),
        (_("Legal name"), member.legal_name),
        (_("Phone number"), member.pending_phone or member.phone),
        (_("Email"), member.email),
        (_("Language"), member.get_preferred_language_display()),
        (_("How to reach you"), ContactPreference(member.contact_preference).label),
        (_("Agrees to SMS alerts"), _yes_no(member.consent_sms)),
        (_("Agrees to be contacted by the crisis team"), _yes_no(member.consent_crisis_contact)),
    ]
    return DataSection(title=_("About you"), columns=(_("Item"), _("Value")), rows=tuple(rows))


def _status_history(member: Member) -> DataSection:
    rows = tuple(
        (
            change.changed_at.date(),
            MemberStatus(change.from_status).label if change.from_status else "",
            MemberStatus(change.to_status).label,
        )
        for change in member.status_history.all()
    )
    return DataSection(
        title=_("Your status over time"), columns=(_("Date"), _("From"), _("To")), rows=rows
    )


def _moves(member: Member) -> DataSection:
    rows = tuple(
        (move.moved_at.date(), move.from_branch.name, move.to_branch.name)
        for move in member.moves.select_related("from_branch", "to_branch")
    )
    return DataSection(
        title=_("Your branches over time"), columns=(_("Date"), _("From"), _("To")), rows=rows
    )


def _roles(member: Member) -> DataSection:
    rows = tuple(
        (Role(role.role).label, role.branch.name, role.starts_on, role.ends_on or "")
        for role in member.roles.select_related("branch").order_by("starts_on", "id")
    )
    return DataSection(
        title=_("Your roles"),
        columns=(_("Role"), _("Branch"), _("Starts on"), _("Ends on")),
        rows=rows,
    )


def _messages(member: Member) -> DataSection:
    rows = tuple(
        (note.created_at.date(), note.get_channel_display(), note.get_status_display())
        for note in member.notifications.order_by("created_at", "id")
    )
    return DataSection(
        title=_("Messages we sent you or tried to"),
        columns=(_("Date"), _("By"), _("What happened")),
        rows=rows,
    )


def cell_text(value: Any) -> str:
    """A value as the page and the file show it: dates in the active language's format."""
    if hasattr(value, "isoformat"):
        return formats.date_format(value, "SHORT_DATE_FORMAT")
    return str(value)


def csv_rows(sections: list[DataSection]) -> Iterator[tuple[str, str, str, str]]:
    """One line per cell: (section, row number, column, value), for a file any spreadsheet
    opens however many columns each part has."""
    for section in sections:
        for number, row in enumerate(section.rows, start=1):
            for column, value in zip(section.columns, row, strict=True):
                yield str(section.title), str(number), str(column), cell_text(value)
