"""How the other apps plug into the core. The core imports no app; each app calls these
from its AppConfig.ready(), the way cms.statistics.register works:

- audit actions: the names (and labels) an app writes to the audit log;
- message renderers: the texts of an app's notifications, in the member's language;
- the member-standing rule: who is in good standing (dues decides; votes ask);
- periodic jobs: an app's entries in the Celery beat schedule;
- erasure hooks: each app erases its own personal data of a member who asked to be
  forgotten (union.services.erasure calls them);
- personal data: each app's part of what a member downloads of what the union holds on her;
- encrypted files: each app re-encrypts the files it stores under the field keys when
  `rotate_field_keys` runs (the command re-encrypts the fields itself).

Permissions are not registered: they stay in one readable table, union/permissions.py.
A missing standing rule is a start-up error (union/checks.py), never "everyone".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.functional import Promise

if TYPE_CHECKING:
    from celery.schedules import crontab
    from django.db.models import QuerySet

    from union.models import Member

Label = str | Promise

# --- Audit actions -------------------------------------------------------------------

AUDIT_ACTION_MAX_LENGTH = 32  # union.models.AuditEvent.action
_AUDIT_ACTION_NAME = re.compile(r"^[a-z][a-z0-9_]*\.[a-z0-9][a-z0-9_]*$")
_audit_actions: dict[str, Label] = {}


def register_audit_actions(actions: Iterable[tuple[str, Label]] | Mapping[str, Label]) -> None:
    """Declare audit action names ("app.verb") and their labels. Typically a TextChoices'
    .choices. Registering a name twice with another label is a programming error."""
    pairs = actions.items() if isinstance(actions, Mapping) else actions
    for name, label in pairs:
        if not _AUDIT_ACTION_NAME.match(name) or len(name) > AUDIT_ACTION_MAX_LENGTH:
            raise ImproperlyConfigured(f"Bad audit action name {name!r}: use 'app.verb'.")
        known = _audit_actions.get(name)
        if known is not None and str(known) != str(label):
            raise ImproperlyConfigured(f"Audit action {name!r} is registered twice.")
        _audit_actions[name] = label


def is_audit_action(name: str) -> bool:
    return name in _audit_actions


def audit_action_label(name: str) -> Label:
    """The label of an action; the bare name for rows of an app no longer installed."""
    return _audit_actions.get(name, name)


def audit_action_choices() -> list[tuple[str, Label]]:
    return sorted(_audit_actions.items())


# --- Message renderers ---------------------------------------------------------------

# A renderer receives the message's context and returns (subject, body). It is called
# with the member's language already active, so gettext speaks to the member.
Renderer = Callable[[dict[str, Any]], tuple[str, str]]
_renderers: dict[str, Renderer] = {}


def register_message(kind: str, renderer: Renderer) -> None:
    """Declare the texts of one kind of notification. A kind belongs to one app."""
    known = _renderers.get(kind)
    if known is not None and known is not renderer:
        raise ImproperlyConfigured(f"Message kind {kind!r} is registered twice.")
    _renderers[kind] = renderer


def message_renderer(kind: str) -> Renderer:
    try:
        return _renderers[kind]
    except KeyError:
        raise LookupError(f"No renderer registered for message kind {kind!r}.") from None


def message_kinds() -> list[str]:
    return sorted(_renderers)


# --- Member standing -----------------------------------------------------------------

# A rule narrows a queryset of members to those in good standing on a date (default
# today), in one query. Exactly one app (dues) registers it.
StandingRule = Callable[..., "QuerySet[Member]"]
_standing: list[StandingRule] = []


def register_standing_rule(rule: StandingRule) -> None:
    if _standing and _standing[0] is not rule:
        raise ImproperlyConfigured("A member-standing rule is already registered.")
    _standing[:] = [rule]


def has_standing_rule() -> bool:
    return bool(_standing)


def in_good_standing(members: QuerySet[Member], **kwargs: Any) -> QuerySet[Member]:
    """The members of `members` in good standing. Without a registered rule this raises:
    who may vote must never silently become "everyone"."""
    if not _standing:
        raise ImproperlyConfigured("No member-standing rule is registered (the dues app).")
    return _standing[0](members, **kwargs)


# --- Periodic jobs -------------------------------------------------------------------


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: str  # the Celery task's dotted name
    schedule: crontab | float  # a crontab, or seconds between runs


_jobs: dict[str, PeriodicJob] = {}


def register_periodic_job(name: str, *, task: str, schedule: crontab | float) -> None:
    """Add an entry to the beat schedule. Names are unique across apps."""
    known = _jobs.get(name)
    job = PeriodicJob(name=name, task=task, schedule=schedule)
    if known is not None and known != job:
        raise ImproperlyConfigured(f"Periodic job {name!r} is registered twice.")
    _jobs[name] = job


def periodic_jobs() -> list[PeriodicJob]:
    return sorted(_jobs.values(), key=lambda job: job.name)


def beat_schedule() -> dict[str, dict[str, Any]]:
    """The Celery beat_schedule setting, built from every app's jobs."""
    return {job.name: {"task": job.task, "schedule": job.schedule} for job in periodic_jobs()}


# --- Erasure and access on request ---------------------------------------------------

# A hook erases what its app holds personally about one member (free text, contact
# details, files): it is called as hook(member, actor) inside the erasure's transaction,
# with the member locked, after the core erased its own fields. It keeps the rows that
# accounts and past rolls need (they point at a member with nothing personal left), must
# not fail on a member it holds nothing about, and writes nothing personal to the audit.
ErasureHook = Callable[["Member", Any], None]
_erasure_hooks: list[ErasureHook] = []


def register_erasure_hook(hook: ErasureHook) -> None:
    if hook not in _erasure_hooks:
        _erasure_hooks.append(hook)


def erasure_hooks() -> list[ErasureHook]:
    return list(_erasure_hooks)


@dataclass(frozen=True)
class DataSection:
    """One part of what the union holds on a member, as she downloads it: a title and a
    table (column headings, then rows of plain values). Built with her language active."""

    title: Label
    columns: tuple[Label, ...]
    rows: tuple[tuple[Any, ...], ...]


# A provider returns its app's sections for one member (none if it holds nothing).
PersonalDataProvider = Callable[["Member"], Iterable[DataSection]]
_data_providers: list[PersonalDataProvider] = []


def register_personal_data(provider: PersonalDataProvider) -> None:
    if provider not in _data_providers:
        _data_providers.append(provider)


def personal_data_providers() -> list[PersonalDataProvider]:
    return list(_data_providers)


# --- Key rotation of encrypted files --------------------------------------------------

# A rotator re-encrypts one app's stored files under the newest field key and returns how
# many it rewrote. It is called by `rotate_field_keys` as rotator(rewriting), where
# rewriting() is a context manager giving a cursor inside a transaction allowed to rewrite
# append-only rows (as the key-rotation role). It must be safe to stop at any moment and
# run again: every file readable with the old or the new key throughout.
FileRotator = Callable[[Callable[[], Any]], int]
_file_rotators: dict[str, FileRotator] = {}


def register_file_rotator(name: str, rotator: FileRotator) -> None:
    known = _file_rotators.get(name)
    if known is not None and known is not rotator:
        raise ImproperlyConfigured(f"File rotator {name!r} is registered twice.")
    _file_rotators[name] = rotator


def file_rotators() -> list[tuple[str, FileRotator]]:
    return sorted(_file_rotators.items())
