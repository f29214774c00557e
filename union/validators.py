"""Validators of the core, used by every path the values come in by (forms, the register
import, the services)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Characters that reorder the text around them (embeddings, overrides, isolates and the
# direction marks). In a name they make it display as something else in an officer's list
# ("Awa\u202eenirolF" shows as "AwaFlorine") or disturb the columns beside it. Names in
# right-to-left scripts need none of them: browsers place such text by itself.
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e"  # LRE, RLE, PDF, LRO, RLO
    "\u2066\u2067\u2068\u2069"  # LRI, RLI, FSI, PDI
    "\u200e\u200f\u061c"  # LRM, RLM, ALM
)


def validate_person_name(value: str) -> None:
    """Refuse a person's name (working, legal or any other) that could display misleadingly."""
    if any(char in BIDI_CONTROLS for char in value or ""):
        raise ValidationError(
            _("Names cannot contain characters that change the direction of text."),
            code="bidi_control",
        )


def validate_person_names(**names: str) -> None:
    """validate_person_name on each keyword (a field name), errors keyed by field, for the
    services: they store what any form, import or command gives them."""
    errors = {}
    for field, value in names.items():
        try:
            validate_person_name(value)
        except ValidationError as exc:
            errors[field] = exc.error_list
    if errors:
        raise ValidationError(errors)
