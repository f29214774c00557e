"""The counter form as a treasurer meets it on a phone, in French (issue 14, item 3): the
date is filled in with today in the branch's time zone, the fields follow the method, and
mobile money needs no receipt-book number (its transaction reference is the proof)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client

from dues.models import EntryKind, LedgerEntry
from tests.conftest import _officer
from tests.dues.conftest import pay
from tests.factories import MemberFactory
from union.models import Role

pytestmark = pytest.mark.django_db

# 23:30 in Bamako (UTC) is already 01:30 the next day in Johannesburg (UTC+2).
LATE_EVENING = "2026-11-15 23:30:00+00:00"


def _value_of(html: str, name: str) -> str | None:
    tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert tag is not None, f"no input {name}"
    value = re.search(r'value="([^"]*)"', tag.group(0))
    return value.group(1) if value else None


@time_machine.travel(LATE_EVENING, tick=False)
@pytest.mark.parametrize(
    ("branch_fixture", "plan_fixture", "today"),
    [("bamako", "bko_plan", "2026-11-15"), ("johannesburg", "jhb_plan", "2026-11-16")],
)
def test_the_payment_date_is_today_in_the_branchs_time_zone_in_french(
    french: Client, login, request, branch_fixture: str, plan_fixture: str, today: str
) -> None:
    branch = request.getfixturevalue(branch_fixture)
    request.getfixturevalue(plan_fixture)
    treasurer = _officer(branch, Role.TREASURER)
    member = MemberFactory(branch=branch)
    login(french, treasurer)
    html = french.get(f"/dues/office/members/{member.public_id}/").content.decode()
    assert '<html lang="fr"' in html
    # A date input only shows a value written the ISO way, whatever the language.
    assert _value_of(html, "paid_on") == today


def test_mobile_money_is_recorded_without_a_receipt_book_number(
    client: Client, login, treasurer, bko_plan, member
) -> None:
    login(client, treasurer)
    response = client.post(
        f"/dues/office/members/{member.public_id}/pay/",
        {
            "amount": "1000",
            "method": "mobile_money",
            "provider": "Orange Money",
            "external_id": "OM123456",
            "receipt_number": "",
            "paid_on": _today(member),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = LedgerEntry.objects.get(member=member, kind=EntryKind.PAYMENT)
    assert entry.receipt_number == ""
    assert entry.external_id == "OM123456"


def test_cash_still_needs_its_receipt_number(client: Client, login, treasurer, bko_plan, member):
    login(client, treasurer)
    response = client.post(
        f"/dues/office/members/{member.public_id}/pay/",
        {"amount": "1000", "method": "cash", "receipt_number": "", "paid_on": _today(member)},
    )
    assert response.status_code == 400
    assert "Enter the number printed on the receipt" in response.content.decode()
    assert not LedgerEntry.objects.filter(member=member, kind=EntryKind.PAYMENT).exists()


def test_a_mobile_money_payment_sent_twice_is_recorded_once(treasurer, bko_plan, member) -> None:
    first = pay(
        treasurer,
        member,
        1000,
        "",
        method="mobile_money",
        provider="Orange Money",
        external_id="W-1",
    )
    again = pay(
        treasurer,
        member,
        1000,
        "",
        method="mobile_money",
        provider="Orange Money",
        external_id="W-1",
    )
    assert again.pk == first.pk
    with pytest.raises(ValidationError):
        pay(
            treasurer,
            member,
            2000,
            "",
            method="mobile_money",
            provider="Orange Money",
            external_id="W-1",
        )


def test_the_mobile_money_fields_show_only_for_mobile_money(
    client: Client, login, treasurer, bko_plan, member
) -> None:
    login(client, treasurer)
    html = client.get(f"/dues/office/members/{member.public_id}/").content.decode()
    for name in ("provider", "external_id"):
        field = re.search(
            rf'<div class="field for-mobile-money">\s*<label[^>]*for="id_{name}"', html
        )
        assert field is not None, f"{name} is not marked as a mobile-money field"
    css = Path("static/css/site.css").read_text(encoding="utf-8")
    assert ':has(input[name="method"][value="cash"]:checked) .for-mobile-money' in css


def test_each_label_on_the_counter_names_one_field(
    client: Client, login, treasurer, bko_plan, member
) -> None:
    """The payment and the waiver forms share the page: "Amount" must not label both."""
    login(client, treasurer)
    html = client.get(f"/dues/office/members/{member.public_id}/").content.decode()
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert sorted({i for i in ids if ids.count(i) > 1}) == []
    assert 'for="id_amount"' in html and 'for="waiver_amount"' in html


def _today(member) -> str:
    from dues import money

    return money.local_today(member.branch.time_zone).isoformat()
