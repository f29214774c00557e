"""The register as a spreadsheet: its columns, the headers we recognise, and the export resource.

The column names are stable codes (number, working_name, ...), the same in every language,
so that a file exported here can be imported again unchanged. Imports also accept a few
common headers from registers kept by hand (French first: "nom de travail", "téléphone").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

from import_export import fields, resources, widgets

from union.models import Member

REGISTER_COLUMNS: tuple[str, ...] = (
    "number",
    "working_name",
    "branch",
    "status",
    "joined_on",
    "legal_name",
    "phone",
    "email",
    "preferred_language",
    "contact_preference",
    "consent_sms",
    "consent_crisis_contact",
    "notes",
)

# Shown and exported only to officers with VIEW_CONTACT for the member's branch: the same
# fields the member page hides from everyone else.
CONTACT_COLUMNS: frozenset[str] = frozenset(
    {"legal_name", "phone", "email", "consent_sms", "consent_crisis_contact", "notes"}
)

# Headers compared after normalise_header(): lower case, no accents, words separated by
# single spaces. Each column's own code ("working_name" -> "working name") is always accepted.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "number": (
        "membership number",
        "member number",
        "numero",
        "numero de membre",
        "numero d adherent",
        "numero adherent",
        "matricule",
        "n",
        "no",
    ),
    "working_name": (
        "working name",
        "nom de travail",
        "nom d usage",
        "nom usuel",
        "pseudonyme",
        "pseudo",
        "surnom",
    ),
    "branch": ("branch code", "antenne", "code antenne", "section", "branche"),
    "status": ("statut", "etat"),
    "joined_on": ("joined", "date joined", "adhesion", "date d adhesion", "date adhesion"),
    "legal_name": ("legal name", "nom legal", "nom civil", "nom officiel", "nom a l etat civil"),
    "phone": ("telephone", "tel", "phone number", "mobile", "portable", "numero de telephone"),
    "email": ("e mail", "courriel", "mail", "adresse email", "adresse e mail"),
    "preferred_language": ("language", "preferred language", "langue"),
    "contact_preference": ("contact", "contact preference", "preference de contact"),
    "consent_sms": ("sms", "consent sms", "accepte sms", "accord sms", "sms ok"),
    "consent_crisis_contact": (
        "crisis contact",
        "consent crisis",
        "accord equipe de crise",
        "contact crise",
        "accepte equipe de crise",
    ),
    "notes": ("note", "remarques", "remarque", "commentaires", "commentaire", "observations"),
}

_NOT_WORD = re.compile(r"[^0-9a-z]+")


@lru_cache(maxsize=4096)
def normalise_header(text: Any) -> str:
    """'Nom de travail ', 'NOM_DE_TRAVAIL' and 'nom-de-travail' all give 'nom de travail'."""
    decomposed = unicodedata.normalize("NFKD", str(text or ""))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return _NOT_WORD.sub(" ", plain).strip()


_HEADER_TO_COLUMN: dict[str, str] = {
    normalise_header(alias): column
    for column, aliases in HEADER_ALIASES.items()
    for alias in (column, *aliases)
}


def column_for_header(header: Any) -> str | None:
    return _HEADER_TO_COLUMN.get(normalise_header(header))


class MemberResource(resources.ModelResource):
    """The register export. Contact columns are present only for officers allowed to see them,
    and are left empty on rows of branches where that officer may not. The file itself is
    written by union.exports, which neutralises formulas in every cell."""

    number = fields.Field(attribute="number", column_name="number")
    working_name = fields.Field(attribute="working_name", column_name="working_name")
    branch = fields.Field(attribute="branch__code", column_name="branch")
    status = fields.Field(attribute="status", column_name="status")
    joined_on = fields.Field(
        attribute="joined_on", column_name="joined_on", widget=widgets.DateWidget("%Y-%m-%d")
    )
    legal_name = fields.Field(attribute="legal_name", column_name="legal_name")
    phone = fields.Field(attribute="phone", column_name="phone")
    email = fields.Field(attribute="email", column_name="email")
    preferred_language = fields.Field(
        attribute="preferred_language", column_name="preferred_language"
    )
    contact_preference = fields.Field(
        attribute="contact_preference", column_name="contact_preference"
    )
    consent_sms = fields.Field(
        attribute="consent_sms", column_name="consent_sms", widget=widgets.BooleanWidget()
    )
    consent_crisis_contact = fields.Field(
        attribute="consent_crisis_contact",
        column_name="consent_crisis_contact",
        widget=widgets.BooleanWidget(),
    )
    notes = fields.Field(attribute="notes", column_name="notes")

    class Meta:
        model = Member
        fields = REGISTER_COLUMNS
        export_order = REGISTER_COLUMNS
        import_id_fields = ("number",)
        chunk_size = 2000

    def __init__(
        self, *, contact_branch_ids: frozenset[int] = frozenset(), contact_everywhere: bool = False
    ) -> None:
        super().__init__()
        self.contact_branch_ids = contact_branch_ids
        self.contact_everywhere = contact_everywhere

    @property
    def includes_contact(self) -> bool:
        return self.contact_everywhere or bool(self.contact_branch_ids)

    def get_export_fields(self, selected_fields: Any = None) -> list[fields.Field]:
        export_fields = super().get_export_fields(selected_fields)
        if self.includes_contact:
            return export_fields
        return [f for f in export_fields if f.column_name not in CONTACT_COLUMNS]

    def export_field(self, field: fields.Field, instance: Member, **kwargs: Any) -> Any:
        if field.column_name in CONTACT_COLUMNS and not (
            self.contact_everywhere or instance.branch_id in self.contact_branch_ids
        ):
            return ""
        return super().export_field(field, instance, **kwargs)
