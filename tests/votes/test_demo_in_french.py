"""The Bamako demo speaks French (issue 14, item 9): the branch works in French, so what
its members are shown of the demo (its votes, its contact details) is French too."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Q

from union.models import Branch
from votes.models import Vote

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]

# Words that only an English sentence has (none of them is also French).
ENGLISH = re.compile(r"\b(?:the|and|of|open|board|election|seats|years|branch)\b", re.I)


def test_the_bamako_demo_votes_and_contacts_are_in_french():
    call_command("load_demo", "--members", "60", stdout=StringIO())
    bamako = Branch.objects.get(code="BKO")
    assert bamako.main_language == "fr"
    votes = Vote.objects.filter(Q(branch=bamako) | Q(branch__is_national=True))
    assert votes.exists()
    english = [
        text
        for vote in votes.prefetch_related("options")
        for text in [vote.title, vote.text, *(o.label for o in vote.options.all())]
        if ENGLISH.search(text)
    ]
    assert english == []
    contact = " ".join([bamako.public_address, bamako.public_hours])
    assert contact.strip() and not ENGLISH.search(contact)
