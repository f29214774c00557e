"""The rules an imported row must pass, alone and against the other rows and the register.

Each rule works on the whole list of planned rows at once (see plan.build_plan, which runs
them in order), records what it finds in `row.errors` and fills in the cleaned values:
phones are normalised for the branch's country and hashed here; encryption waits for
the writer, so a preview never encrypts anything. Lookups in the database are set-based
(branches, members by number, members by phone hash, names for rows without a number),
so the cost grows with the file, not with the table.

Matching: a row with a membership number updates that member, or creates one with that
number. A row without a number updates the member who has its phone number; otherwise it
creates a new member (who gets the branch's next number), unless a member with the same
working name already exists in that branch: then the row is refused and the officer is
asked for the number, so that re-importing a file never duplicates anyone and two people
with the same working name are never merged.

On updates an empty cell keeps what is stored: an import never erases data.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection
from django.db.models.expressions import RawSQL
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from union.crypto import keyed_hash
from union.forms import clean_name
from union.models import STATUS_TRANSITIONS, Branch, ContactPreference, Member, MemberStatus
from union.phones import normalise_phone, region_for_currency
from union.resources import normalise_header

if TYPE_CHECKING:
    from union.imports.plan import PlannedRow
    from union.permissions import Scope

Column = Callable[[str], tuple[str, ...]]  # the cells of one column, by field name

# Applicants come through the join form and the applicant queue; rejected people are not
# members. An import only deals with people who are, or were, members.
IMPORT_STATUSES = (
    MemberStatus.ACTIVE,
    MemberStatus.LAPSED,
    MemberStatus.SUSPENDED,
    MemberStatus.RESIGNED,
    MemberStatus.DECEASED,
)
_NUMBER = re.compile(r"^[A-Z0-9][A-Z0-9./-]{0,19}$")
_ARRAY_SAFE = re.compile(r"^[A-Za-z0-9./-]+$")
WORKING_NAME_MAX = 100
LEGAL_NAME_MAX = 200
EMAIL_MAX = 254
NOTES_MAX = 2000
LOOKUP_CHUNK = 5000

_TRUE = frozenset({"1", "yes", "y", "true", "oui", "o", "x", "vrai"})
_FALSE = frozenset({"0", "no", "n", "false", "non", "faux"})
_STATUS_ALIASES = {
    "actif": MemberStatus.ACTIVE,
    "active": MemberStatus.ACTIVE,
    "actif ve": MemberStatus.ACTIVE,
    "non a jour": MemberStatus.LAPSED,
    "en retard": MemberStatus.LAPSED,
    "suspendu": MemberStatus.SUSPENDED,
    "suspendue": MemberStatus.SUSPENDED,
    "demissionnaire": MemberStatus.RESIGNED,
    "demission": MemberStatus.RESIGNED,
    "decede": MemberStatus.DECEASED,
    "decedee": MemberStatus.DECEASED,
}
_CONTACT_ALIASES = {
    "aucun": ContactPreference.NONE,
    "non": ContactPreference.NONE,
    "texto": ContactPreference.SMS,
    "appel": ContactPreference.CALL,
    "telephone": ContactPreference.CALL,
    "courriel": ContactPreference.EMAIL,
    "e mail": ContactPreference.EMAIL,
    "mail": ContactPreference.EMAIL,
}
_LANGUAGE_ALIASES = {"francais": "fr", "french": "fr", "anglais": "en", "english": "en"}


class _Vocabulary:
    """Words accepted for statuses, contact preferences and languages, in every site language.

    Built once per plan: labels are looked up in each language rather than hard-coded.
    """

    def __init__(self) -> None:
        self.status: dict[str, str] = dict(_STATUS_ALIASES)
        self.contact: dict[str, str] = dict(_CONTACT_ALIASES)
        self.language: dict[str, str] = dict(_LANGUAGE_ALIASES)
        for code, name in settings.LANGUAGES:
            self.language[normalise_header(code)] = code
            self.language[normalise_header(name)] = code
        for lang, _name in settings.LANGUAGES:
            with translation.override(lang):
                for value, label in MemberStatus.choices:
                    self.status.setdefault(normalise_header(label), value)
                for value, label in ContactPreference.choices:
                    self.contact.setdefault(normalise_header(label), value)
        for value in MemberStatus.values:
            self.status[value] = value
        for value in ContactPreference.values:
            self.contact[value] = value


class Messages:
    """Each translated message is built once, not once per row."""

    def __init__(self) -> None:
        self.bad_number = _(
            "The membership number can use capital letters, digits, “-”, “/” and “.” only "
            "(at most 20)."
        )
        self.no_branch = _("The branch code is missing.")
        self.national = _("Members belong to a branch, not to the national level.")
        self.bad_date = _("The date joined is not a date we can read (use 2024-03-31).")
        self.future_date = _("The date joined is in the future.")
        self.long_name = _("The working name is too long (at most 100 characters).")
        self.long_legal = _("The legal name is too long (at most 200 characters).")
        self.long_notes = _("The notes are too long (at most 2000 characters).")
        self.bad_email = _("The email address is not valid.")
        self.bad_bool = _("Consent columns take yes or no (1 or 0, oui or non).")
        self.dup_number = _("This membership number is on more than one row of the file.")
        self.dup_phone = _("This phone number is on more than one row of the file.")
        self.dup_member = _("Another row of the file is the same member.")
        self.phone_taken = _("This phone number belongs to another member.")
        self.other_branch_member = _(
            "This membership number belongs to a member of a branch you cannot change."
        )
        self.applicant = _(
            "This phone number belongs to someone waiting for approval: "
            "approve them in the applications queue first."
        )
        self.same_name = _(
            "A member with this working name is already in this branch. Add their membership "
            "number to update them; to add someone new with the same name, register them "
            "on the “Register someone” screen."
        )
        self.needs_phone = _("Give a phone number, or choose another way to reach them.")
        self.needs_email = _("Give an email address, or choose another way to reach them.")
        self.not_a_status = _(
            "This status cannot be imported. Use active, lapsed, suspended, resigned or deceased."
        )
        self.status_list = ", ".join(str(s) for s in IMPORT_STATUSES)


def _chunks(values: list[Any], size: int = LOOKUP_CHUNK) -> Iterable[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


_Found = tuple[int, str, int, str, str]  # id, number, branch_id, status, phone_hash


def _members_by(field_name: str, values: Iterable[str]) -> dict[str, _Found]:
    """{value: (id, number, branch_id, status, phone_hash)} for members whose field is in values."""
    wanted = sorted(set(values))
    found: dict[str, _Found] = {}
    index = {"number": 1, "phone_hash": 4}[field_name]
    columns = ("id", "number", "branch_id", "status", "phone_hash")
    if connection.vendor == "postgresql":
        # One array literal instead of thousands of placeholders: Django prepares every
        # item of an __in list one by one, which costs more than the query itself here.
        # Only values that cannot need quoting inside an array literal are looked up;
        # anything else is not a valid number or hash and cannot match anyway.
        safe = [v for v in wanted if _ARRAY_SAFE.match(v)]
        if not safe:
            return found
        matching = RawSQL("SELECT unnest(%s::text[])", ["{" + ",".join(safe) + "}"])
        qs = Member.objects.filter(**{f"{field_name}__in": matching}).values_list(*columns)
        return {row[index]: row for row in qs}
    for chunk in _chunks(wanted):
        for row in Member.objects.filter(**{f"{field_name}__in": chunk}).values_list(*columns):
            found[row[index]] = row
    return found


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        pass
    for fmt in ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d", "%d/%m/%y"):
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 (a date, no time)
        except ValueError:
            continue
    return None


def _error_text(exc: ValidationError) -> str:
    return " ".join(str(m) for m in exc.messages)


def check_identity(
    rows: list[PlannedRow],
    *,
    scope: Scope,
    branches: dict[str, Branch],
    default_branch: Branch | None,
    msg: Messages,
) -> None:
    """Membership number format, branch (known, not national, in scope), working name."""
    verdicts: dict[str, tuple[int | None, str]] = {}  # code -> (branch id, error)
    for row in rows:
        if row.number and not _NUMBER.match(row.number):
            row.errors.append(msg.bad_number)
        code = row.branch_code
        verdict = verdicts.get(code)
        if verdict is None:
            verdict = verdicts[code] = _branch_verdict(code, scope, branches, default_branch, msg)
        branch_id, error = verdict
        if error:
            row.errors.append(error)
        else:
            row.branch_id = branch_id
            if not code:
                row.branch_code = default_branch.code  # type: ignore[union-attr]
        try:
            row.working_name = clean_name(row.working_name, required=True)
        except ValidationError as exc:
            row.errors.append(_error_text(exc))
            continue
        if len(row.working_name) > WORKING_NAME_MAX:
            row.errors.append(msg.long_name)


def _branch_verdict(
    code: str,
    scope: Scope,
    branches: dict[str, Branch],
    default_branch: Branch | None,
    msg: Messages,
) -> tuple[int | None, str]:
    branch = branches.get(code) if code else default_branch
    if branch is None:
        if not code:
            return None, msg.no_branch
        return None, _("There is no branch with the code “%(code)s”.") % {"code": code[:12]}
    if branch.is_national:
        return None, msg.national
    if not scope.allows(branch.pk):
        return None, _("You cannot import members into the branch “%(code)s”.") % {
            "code": branch.code
        }
    return branch.pk, ""


def check_words(rows: list[PlannedRow], column: Column, *, msg: Messages) -> None:
    """Status, language, way of contact and the two consents: small vocabularies."""
    vocab = _Vocabulary()
    languages = ", ".join(code for code, _n in settings.LANGUAGES)

    def status_of(raw: str) -> tuple[str | None, str]:
        status = vocab.status.get(normalise_header(raw))
        if status is None:
            return None, _("Unknown status “%(value)s”. Use one of: %(choices)s.") % {
                "value": raw[:20],
                "choices": msg.status_list,
            }
        if status not in IMPORT_STATUSES:
            return None, msg.not_a_status
        return status, ""

    def language_of(raw: str) -> tuple[str | None, str]:
        language = vocab.language.get(normalise_header(raw))
        if language is None:
            return None, _("Unknown language “%(value)s”. Use one of: %(choices)s.") % {
                "value": raw[:20],
                "choices": languages,
            }
        return language, ""

    def contact_of(raw: str) -> tuple[str | None, str]:
        preference = vocab.contact.get(normalise_header(raw))
        if preference is None:
            return None, _("Unknown way of contact “%(value)s”. Use one of: %(choices)s.") % {
                "value": raw[:20],
                "choices": ", ".join(ContactPreference.values),
            }
        return preference, ""

    def consent_of(raw: str) -> tuple[bool | None, str]:
        word = raw.casefold()
        if word in _TRUE:
            return True, ""
        if word in _FALSE:
            return False, ""
        return None, msg.bad_bool

    for attr, parse in (
        ("status", status_of),
        ("preferred_language", language_of),
        ("contact_preference", contact_of),
        ("consent_sms", consent_of),
        ("consent_crisis_contact", consent_of),
    ):
        seen: dict[str, tuple[Any, str]] = {}
        for row, raw in zip(rows, column(attr), strict=True):
            if not raw:
                continue
            verdict = seen.get(raw)
            if verdict is None:
                verdict = seen[raw] = parse(raw)
            value, error = verdict
            if error:
                row.errors.append(error)
            else:
                setattr(row, attr, value)


def check_dates(rows: list[PlannedRow], values: tuple[str, ...], *, msg: Messages) -> None:
    today = timezone.localdate()
    for row, raw in zip(rows, values, strict=True):
        if not raw:
            continue
        joined = _parse_date(raw)
        if joined is None or joined.year < 1900:
            row.errors.append(msg.bad_date)
        elif joined > today:
            row.errors.append(msg.future_date)
        else:
            row.joined_on = joined


def check_contact(rows: list[PlannedRow], column: Column, *, msg: Messages) -> None:
    """Legal name, phone (normalised for the branch's country, then hashed), email, notes."""
    for row, raw in zip(rows, column("legal_name"), strict=True):
        if not raw:
            continue
        try:
            row.legal_name = clean_name(raw, required=False)
        except ValidationError as exc:
            row.errors.append(_error_text(exc))
            continue
        if len(row.legal_name) > LEGAL_NAME_MAX:
            row.errors.append(msg.long_legal)

    regions: dict[int, str] = {}
    currencies = dict(Branch.objects.values_list("pk", "currency"))
    for row, raw in zip(rows, column("phone"), strict=True):
        if not raw:
            continue
        region = None  # a row without a known branch: the site's default region
        if row.branch_id is not None:
            region = regions.get(row.branch_id)
            if region is None:
                region = regions[row.branch_id] = region_for_currency(currencies[row.branch_id])
        try:
            row.phone = normalise_phone(raw, region)
        except ValidationError as exc:
            row.errors.append(_error_text(exc))
            continue
        row.phone_hash = keyed_hash(row.phone)

    for row, raw in zip(rows, column("email"), strict=True):
        if not raw:
            continue
        try:
            if len(raw) > EMAIL_MAX:
                raise ValidationError(msg.bad_email)
            validate_email(raw)
        except ValidationError:
            row.errors.append(msg.bad_email)
        else:
            row.email = raw

    for row, raw in zip(rows, column("notes"), strict=True):
        if not raw:
            continue
        if len(raw) > NOTES_MAX:
            row.errors.append(msg.long_notes)
        else:
            row.notes = raw


def flag_duplicates(rows: list[PlannedRow], attr: str, message: str) -> None:
    """Every row sharing a value is refused: we cannot tell which of them is right."""
    seen: dict[str, list[PlannedRow]] = defaultdict(list)
    for row in rows:
        value = getattr(row, attr)
        if value:
            seen[value].append(row)
    for group in seen.values():
        if len(group) > 1:
            for row in group:
                row.errors.append(message)


def match_members(rows: list[PlannedRow], *, scope: Scope, msg: Messages) -> None:
    by_number = _members_by("number", (r.number for r in rows if r.number))
    by_phone = _members_by("phone_hash", (r.phone_hash for r in rows if r.phone_hash))
    claimed: dict[int, list[PlannedRow]] = defaultdict(list)
    for row in rows:
        found = by_number.get(row.number) if row.number else None
        owner = by_phone.get(row.phone_hash) if row.phone_hash else None
        if found is None and not row.number and owner is not None:
            # No number: the member who already has this phone is the same person.
            if owner[3] == MemberStatus.APPLICANT:
                row.errors.append(msg.applicant)
                continue
            if owner[3] != MemberStatus.REJECTED:
                found = owner
        if found is not None:
            member_id, number, branch_id, status, _hash = found
            if not scope.allows(branch_id):
                row.errors.append(msg.other_branch_member)
                continue
            row.member_id = member_id
            row.number = number
            row.old_status = status
            claimed[member_id].append(row)
        if owner is not None and owner[0] != row.member_id:
            row.errors.append(msg.phone_taken)
        if row.member_id is None:
            if row.status is None:
                row.status = MemberStatus.ACTIVE
        elif (
            row.status is not None
            and row.status != row.old_status
            and row.status not in STATUS_TRANSITIONS.get(row.old_status, frozenset())
        ):
            row.errors.append(
                _("A member cannot go from %(old)s to %(new)s.")
                % {"old": row.old_status_label, "new": MemberStatus(row.status).label}
            )
    for group in claimed.values():
        if len(group) > 1:
            for row in group:
                row.errors.append(msg.dup_member)


def refuse_same_names(rows: list[PlannedRow], *, msg: Messages) -> None:
    """New rows without a number whose working name is already taken in their branch."""
    candidates = [r for r in rows if not r.number and r.member_id is None and r.branch_id]
    if not candidates:
        return
    wanted: dict[int, set[str]] = defaultdict(set)
    for row in candidates:
        wanted[row.branch_id].add(row.working_name.casefold())  # type: ignore[index]
    taken: set[tuple[int, str]] = set()
    for branch_id, names in wanted.items():
        # Case-insensitive matching is done here, not in SQL: lower() depends on the
        # database's locale and would miss "Élodie" against "élodie" on a C-locale server.
        for name in (
            Member.objects.filter(branch_id=branch_id)
            .exclude(status=MemberStatus.REJECTED)
            .values_list("working_name", flat=True)
            .iterator(chunk_size=LOOKUP_CHUNK)
        ):
            folded = name.casefold()
            if folded in names:
                taken.add((branch_id, folded))
    for row in candidates:
        if (row.branch_id, row.working_name.casefold()) in taken:
            row.errors.append(msg.same_name)


def check_reachability(rows: list[PlannedRow], *, msg: Messages) -> None:
    """The same rule as the registration form, for what the row itself says."""
    for row in rows:
        if row.member_id is not None:
            continue
        if row.contact_preference in (ContactPreference.SMS, ContactPreference.CALL):
            if not row.phone:
                row.errors.append(msg.needs_phone)
        elif row.contact_preference == ContactPreference.EMAIL and not row.email:
            row.errors.append(msg.needs_email)
