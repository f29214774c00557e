"""How the other apps plug into the core. The core imports no app; each app calls these
from its AppConfig.ready(), the way cms.statistics.register works:

- audit actions: the names (and labels) an app writes to the audit log;
- message renderers: the texts of an app's notifications, in the member's language;
- the member-standing rule: who is in good standing (dues decides; votes ask), and how
  the core's screens say it (one wording, a filter, a sentence per member);
- periodic jobs: an app's entries in the Celery beat schedule;
- office queues: what waits for an officer (applications, payments to confirm, call-outs),
  counted on their office home;
- erasure hooks: each app erases its own personal data of a member who asked to be
  forgotten (union.services.erasure calls them);
- personal data: each app's part of what a member downloads of what the union holds on her;
- member moves: what each app does when a member moves to another branch (dues closes
  her account in the old branch and opens one in the new), inside the move's transaction.
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
    from django import forms
    from django.contrib.auth.models import User
    from django.db.models import QuerySet

    from union.models import Branch, Member, MemberMove

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


# How the core's screens (the register, a member's page) show where a member stands, in the
# same words as the dues screens: the codes and labels of a filter and a column, a queryset
# annotation `standing` with those codes (one SQL), and the sentence for one member.
@dataclass(frozen=True)
class StandingDisplay:
    choices: list[tuple[str, Label]]
    annotate: Callable[[QuerySet[Member]], QuerySet[Member]]
    describe: Callable[[Member], str]

    def label(self, code: str) -> Label:
        return dict(self.choices).get(code, code)


_standing_display: list[StandingDisplay] = []


def register_standing_display(
    *,
    choices: Iterable[tuple[str, Label]],
    annotate: Callable[[QuerySet[Member]], QuerySet[Member]],
    describe: Callable[[Member], str],
) -> None:
    display = StandingDisplay(choices=list(choices), annotate=annotate, describe=describe)
    if _standing_display and _standing_display[0] != display:
        raise ImproperlyConfigured("A standing display is already registered.")
    _standing_display[:] = [display]


def standing_display() -> StandingDisplay | None:
    """The registered display, or None (the screens then show no dues position)."""
    return _standing_display[0] if _standing_display else None


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


# --- Office queues -------------------------------------------------------------------


@dataclass(frozen=True)
class OfficeQueue:
    """Something that waits for an officer: shown with its count on their office home."""

    key: str  # "app.what", unique
    label: Label  # what waits, as a list heading: "Payments to confirm"
    # How many items wait for this user: in their branches, and never their own work (an
    # officer does not confirm the payment she took). Keep it to one COUNT.
    count: Callable[[User], int]
    url_name: str  # where the officer deals with them
    perm: str | None = None  # a union.permissions.Perm the officer must hold somewhere
    # Or, for a queue outside the permission table (a second editor's approvals): whether
    # the queue concerns this officer at all.
    applies: Callable[[User], bool] | None = None


_office_queues: dict[str, OfficeQueue] = {}


def register_office_queue(
    key: str,
    *,
    label: Label,
    count: Callable[[User], int],
    url_name: str,
    perm: str | None = None,
    applies: Callable[[User], bool] | None = None,
) -> None:
    """Declare a queue. The office home lists every queue whose permission the officer
    holds in some branch (or that `applies` to them), in the order they were registered."""
    if (perm is None) == (applies is None):
        raise ImproperlyConfigured(f"Office queue {key!r}: give either perm or applies.")
    queue = OfficeQueue(
        key=key, label=label, count=count, url_name=url_name, perm=perm, applies=applies
    )
    known = _office_queues.get(key)
    if known is not None and known != queue:
        raise ImproperlyConfigured(f"Office queue {key!r} is registered twice.")
    _office_queues[key] = queue


def unregister_office_queue(key: str) -> None:
    _office_queues.pop(key, None)


def office_queues() -> list[OfficeQueue]:
    return list(_office_queues.values())


def office_queue(key: str) -> OfficeQueue | None:
    return _office_queues.get(key)


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


# --- Member moves --------------------------------------------------------------------


@dataclass(frozen=True)
class MoveStep:
    """What one app does when a member moves branch (union.services.moves.move_member).

    - `fields(member, to_branch)`: the questions the receiving officer answers on the move
      screen (form fields by name; none if the app has nothing to ask);
    - `describe(member, to_branch)`: lines the screen shows before she confirms (what the
      member owes, the rate that will be used...), in the active language;
    - `apply(move, answers, actor)`: called inside the move's transaction, with the member
      locked and already in her new branch; `answers` holds the cleaned values of its
      fields. Raising ValidationError refuses the whole move: nothing is written.
    """

    name: str
    fields: Callable[[Member, Branch], dict[str, forms.Field]]
    describe: Callable[[Member, Branch], list[str]]
    apply: Callable[[MemberMove, Mapping[str, Any], Any], None]


_move_steps: dict[str, MoveStep] = {}


def register_move_step(step: MoveStep) -> None:
    known = _move_steps.get(step.name)
    if known is not None and known != step:
        raise ImproperlyConfigured(f"Move step {step.name!r} is registered twice.")
    _move_steps[step.name] = step


def move_steps() -> list[MoveStep]:
    return [_move_steps[name] for name in sorted(_move_steps)]


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
