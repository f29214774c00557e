"""One wording of a member's dues position, from dues.selectors, on every screen and filter
(issue 14, item 2): the member's own page, the counter, the register, the dues dashboard.

Mid-November in Bamako (3 grace months): a member who owes August to November is still in
good standing and must hear so, with what she owes; one who owes July too is not.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
import time_machine
from django.test import Client

from dues import selectors
from tests.dues.conftest import JOINED, charge, pay
from tests.factories import MemberFactory
from union.models import Member

pytestmark = pytest.mark.django_db

MID_NOVEMBER = "2026-11-15 12:00:00+00:00"


@pytest.fixture
def people(bamako, bko_plan, treasurer):
    owing = MemberFactory(
        branch=bamako, joined_on=JOINED, working_name="Awa Owing", with_login=True
    )
    behind = MemberFactory(branch=bamako, joined_on=JOINED, working_name="Binta Behind")
    paid = MemberFactory(branch=bamako, joined_on=JOINED, working_name="Coumba Paid")
    with time_machine.travel(MID_NOVEMBER, tick=False):
        charge(bamako, "2026-07", "2026-08", "2026-09", "2026-10", "2026-11")
        pay(treasurer, owing, 1000, "R1")  # July paid: August to November open
        pay(treasurer, paid, 5000, "R2")
    return {"owing": owing, "behind": behind, "paid": paid}


def _text(html: str) -> str:
    # Not str.split(): it would break the no-break space inside amounts.
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", html))


@time_machine.travel(MID_NOVEMBER, tick=False)
def test_next_due_is_in_the_future_even_while_months_are_owed(people) -> None:
    summary = selectors.summary(people["owing"])
    assert summary.months_owed == 4
    assert summary.next_due == date(2026, 12, 1)
    assert selectors.summary(people["paid"]).next_due == date(2026, 12, 1)


@time_machine.travel(MID_NOVEMBER, tick=False)
def test_the_position_says_in_good_standing_and_what_is_owed_in_one_sentence(people) -> None:
    owing = selectors.position(people["owing"])
    assert owing.in_good_standing
    assert owing.sentence == (
        "In good standing: 4,000\u00a0XOF owed. Pay it before 1 December 2026 to stay in good "
        "standing."
    )
    behind = selectors.position(people["behind"])
    assert not behind.in_good_standing
    assert behind.sentence == (
        "Not in good standing: 5,000\u00a0XOF owed, some of it for more than 3 months."
    )
    assert selectors.position(people["paid"]).sentence == "In good standing: nothing owed."


@time_machine.travel(MID_NOVEMBER, tick=False)
def test_counter_member_register_and_dashboard_show_the_same_sentence(
    client: Client, login, people, treasurer, secretary
) -> None:
    owing: Member = people["owing"]
    sentence = selectors.position(owing).sentence
    login(client, treasurer)
    counter = _text(client.get(f"/dues/office/members/{owing.public_id}/").content.decode())
    assert sentence in counter
    assert "· in good standing ·" not in counter
    client.logout()
    login(client, secretary)
    register = _text(client.get(f"/office/members/{owing.public_id}/").content.decode())
    assert sentence in register
    dashboard = _text(client.get("/dues/office/?branch=BKO").content.decode())
    assert "Awa Owing" in dashboard
    assert "Binta Behind" in dashboard
    assert "In good standing, dues owed" in dashboard
    assert "Not in good standing" in dashboard
    client.logout()
    client.force_login(owing.user)
    own = _text(client.get("/dues/my/").content.decode())
    assert sentence in own


@time_machine.travel(MID_NOVEMBER, tick=False)
def test_the_register_filter_finds_everyone_the_rule_puts_out_of_good_standing(
    client: Client, login, people, secretary, bamako
) -> None:
    suspended = MemberFactory(branch=bamako, joined_on=JOINED, working_name="Djeneba Suspended")
    suspended.status = "suspended"
    suspended.save(update_fields=["status"])
    login(client, secretary)
    html = client.get("/office/members/", {"standing": "not_good"}).content.decode()
    everyone = Member.objects.filter(branch=bamako).values_list("working_name", flat=True)
    names = {name for name in everyone if f">{name}</a>" in html}
    expected = set(
        Member.objects.filter(branch=bamako)
        .exclude(pk__in=selectors.members_in_good_standing())
        .exclude(status__in=["applicant", "rejected"])
        .values_list("working_name", flat=True)
    )
    assert "Binta Behind" in expected and "Djeneba Suspended" in expected
    assert names == expected
    owing_only = client.get("/office/members/", {"standing": "owing"}).content.decode()
    assert "Awa Owing" in owing_only and "Binta Behind" not in owing_only
    assert "Coumba Paid" not in owing_only
