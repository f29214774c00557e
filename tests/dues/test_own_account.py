"""No officer records, waives, corrects, confirms or rates their own dues: another officer
must (a treasurer could otherwise book her own cash, waive her own arrears or put herself
on the solidarity rate, and so onto the roll of voters).

Personas: treasurer and secretary of Bamako, each a member with a dues account there.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from dues.models import DuesAccount, EntryKind, LedgerEntry, PaymentConfirmation, Rate
from dues.services import ledger, plans
from tests.dues.conftest import JOINED, THRESHOLD, charge, pay
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db

OWN = "This concerns your own record: another officer must do it."


@pytest.fixture
def owed(bamako, bko_plan, treasurer, secretary):
    """Both officers owe November's dues."""
    for officer in (treasurer, secretary):
        officer.joined_on = JOINED
        officer.save(update_fields=["joined_on"])
    charge(bamako, "2026-11")


def test_an_officer_cannot_record_her_own_payment(treasurer, owed):
    with pytest.raises(ValidationError, match=OWN):
        pay(treasurer, treasurer, 1000, "R1")
    assert not LedgerEntry.objects.filter(kind=EntryKind.PAYMENT).exists()


def test_an_officer_cannot_waive_her_own_dues(treasurer, owed):
    with pytest.raises(ValidationError, match=OWN):
        ledger.grant_waiver(actor=treasurer.user, member=treasurer, amount=1000, reason="mine")
    assert not LedgerEntry.objects.filter(kind=EntryKind.WAIVER).exists()


def test_an_officer_cannot_put_herself_on_the_solidarity_rate(treasurer, owed):
    with pytest.raises(ValidationError, match=OWN):
        plans.set_member_rate(actor=treasurer.user, member=treasurer, rate=Rate.SOLIDARITY)
    assert not DuesAccount.objects.filter(member=treasurer, rate=Rate.SOLIDARITY).exists()


def test_an_officer_cannot_correct_her_own_account(treasurer, owed, bamako):
    own_charge = LedgerEntry.objects.get(member=treasurer, kind=EntryKind.CHARGE)
    with pytest.raises(ValidationError, match=OWN):
        ledger.reverse_entry(actor=treasurer.user, entry=own_charge, reason="not me")
    assert not LedgerEntry.objects.filter(kind=EntryKind.REVERSAL).exists()


def test_an_officer_cannot_confirm_a_payment_to_her_own_account(treasurer, secretary, owed):
    entry = pay(treasurer, secretary, THRESHOLD + 1, "R1")  # the treasurer takes her cash
    with pytest.raises(ValidationError, match=OWN):
        ledger.confirm_payment(actor=secretary.user, entry=entry)
    assert not PaymentConfirmation.objects.exists()


def test_another_officer_acts_on_an_officers_account(treasurer, secretary, owed, bamako):
    second = MemberFactory(branch=bamako, with_login=True)
    from tests.conftest import _officer
    from union.models import Role

    other_treasurer = _officer(bamako, Role.TREASURER)
    entry = pay(other_treasurer, treasurer, THRESHOLD + 1, "R1")
    ledger.confirm_payment(actor=secretary.user, entry=entry)
    plans.set_member_rate(actor=other_treasurer.user, member=treasurer, rate=Rate.SOLIDARITY)
    assert second.pk  # a bystander: nothing of hers changed
    assert LedgerEntry.objects.filter(member=treasurer, kind=EntryKind.PAYMENT).count() == 1


# --- the screens (the access cells are in test_screens.py: OWN_ACCOUNT) ----------------


def test_her_own_account_shows_the_officer_no_forms(client, login, treasurer, owed):
    login(client, treasurer)
    page = client.get(reverse("dues:member_account", args=[treasurer.public_id])).content.decode()
    assert OWN in page
    assert reverse("dues:record_payment", args=[treasurer.public_id]) not in page
    assert reverse("dues:grant_waiver", args=[treasurer.public_id]) not in page
    assert reverse("dues:set_rate", args=[treasurer.public_id]) not in page
