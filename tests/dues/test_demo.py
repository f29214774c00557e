"""The demo dues: plans, three months of charges, payments; loading twice changes nothing."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from dues import selectors
from dues.models import DuesPlan, EntryKind, LedgerEntry
from tests.dues.conftest import JOINED
from tests.factories import MemberFactory

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def test_demo_dues_load_once_with_some_members_up_to_date_and_some_behind(
    bamako, segou, johannesburg, treasurer
):
    for _ in range(12):
        MemberFactory(branch=bamako, joined_on=JOINED)
    call_command("load_demo_dues", stdout=StringIO())
    assert DuesPlan.objects.get(branch=bamako).monthly_amount == 1000
    assert DuesPlan.objects.get(branch=johannesburg).monthly_amount == 5000  # R50.00 in cents
    periods = set(LedgerEntry.objects.filter(branch=bamako).values_list("period", flat=True))
    assert len(periods - {None}) == 3
    assert LedgerEntry.objects.filter(branch=bamako, kind=EntryKind.PAYMENT).exists()
    behind = selectors.arrears_for(treasurer.user, bamako).count()
    assert 0 < behind < 13
    assert selectors.awaiting_confirmation(treasurer.user, bamako).count() == 1

    rows = LedgerEntry.objects.count()
    out = StringIO()
    call_command("load_demo_dues", stdout=out)
    assert "already present" in out.getvalue()
    assert LedgerEntry.objects.count() == rows
