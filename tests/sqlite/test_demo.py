"""`manage.py load_demo`, which `make run` runs at every start, on the embedded default.

It loads the demo union once (members, logins, votes, dues through the monthly run, the
public site); run again it changes nothing and prints the logins. Runs on both databases.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from wagtail.models import Page

from dues.models import EntryKind, LedgerEntry
from union.management.commands.load_demo import DEMO_PASSWORD
from union.models import Member
from votes.models import Vote

pytestmark = [pytest.mark.embedded, pytest.mark.django_db]


def _counts() -> dict[str, int]:
    return {
        "members": Member.objects.count(),
        "ledger": LedgerEntry.objects.count(),
        "votes": Vote.objects.count(),
        "pages": Page.objects.count(),
    }


def test_the_demo_loads_once_and_its_printed_logins_sign_in(client):
    first = StringIO()
    call_command("load_demo", "--members", "60", stdout=first)
    assert "Demo union loaded." in first.getvalue()
    loaded = _counts()
    assert loaded["members"] >= 60
    assert LedgerEntry.objects.filter(kind=EntryKind.CHARGE).exists()
    assert loaded["votes"] and loaded["pages"] > 2

    again = StringIO()
    call_command("load_demo", stdout=again)
    assert "Demo union already present; nothing changed." in again.getvalue()
    assert _counts() == loaded

    member = Member.objects.filter(user__isnull=False, roles__isnull=True).first()
    assert member is not None
    assert f"  {member.number:<12} Member" in again.getvalue()
    signed_in = client.post(
        reverse("union:login"), {"username": member.number, "password": DEMO_PASSWORD}
    )
    assert signed_in.status_code == 302
    assert client.session["_auth_user_id"] == str(member.user_id)
