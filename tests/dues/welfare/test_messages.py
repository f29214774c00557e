"""What members are told, and what the office lists cost.

Messages are neutral (a phone may be shared): no fund, no purpose, no union, and no link
to act on. They are written in the member's language.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from dues.welfare.models import Purpose
from tests.dues.welfare.conftest import approve, submit
from tests.factories import MemberFactory
from union.models import Notification
from union.notifications import messages

pytestmark = pytest.mark.django_db

CONTEXT = {"submitted_on": "2026-11-30", "amount": 12000, "currency": "XOF"}
KINDS = ["welfare_received", "welfare_needs_info", "welfare_approved", "welfare_rejected"]
KINDS += ["welfare_paid"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("language", ["en", "fr"])
def test_messages_are_neutral_and_carry_no_link(kind, language, settings):
    catalog = settings.BASE_DIR / "locale" / "fr" / "LC_MESSAGES" / "django.mo"
    if language == "fr" and not catalog.exists():
        pytest.xfail("French catalogue missing (run manage.py compilemessages)")
    subject, body = messages.render(kind, language, CONTEXT)
    text = f"{subject} {body}".lower()
    for word in ("http", "welfare", "entraide", "union", "syndicat", "fund", "fonds", "bail"):
        assert word not in text
    if language == "fr":
        assert "votre demande du 30/11/2026" in text


def test_each_step_tells_the_member_once(awa, funded, committee_a, committee_b, treasurer):
    from dues.money import local_today
    from dues.welfare.services import payouts

    application = approve(submit(awa), committee_a, committee_b)
    payouts.pay_application(
        actor=treasurer.user,
        application=application,
        method="cash",
        paid_on=local_today("Africa/Bamako"),
    )
    kinds = list(Notification.objects.filter(member=awa).values_list("kind", flat=True))
    assert sorted(kinds) == ["welfare_approved", "welfare_paid", "welfare_received"]


def test_the_office_lists_cost_the_same_for_many_applications(
    client,
    login,
    bamako,
    funded,
    committee_c,
    treasurer,
    committee_a,
    committee_b,
    django_assert_max_num_queries,
):
    for _ in range(12):
        member = MemberFactory(branch=bamako, with_login=True)
        submit(member, 1000)
        approve(submit(member, 1000, purpose=Purpose.EMERGENCY), committee_a, committee_b)
    login(client, committee_c)
    with django_assert_max_num_queries(14):
        assert client.get(reverse("dues:welfare_queue")).status_code == 200
    login(client, treasurer)
    with django_assert_max_num_queries(14):
        assert client.get(reverse("dues:welfare_unpaid")).status_code == 200
    with django_assert_max_num_queries(14):
        assert client.get(reverse("dues:welfare_office")).status_code == 200
