"""Who is on a vote's roll is the dues app's good-standing rule, asked through the core.

Bamako allows 3 grace months. Frozen in mid-November 2026, with July to November charged:
a member who paid nothing owes July, before the grace window, and is not in good standing.
"""

from __future__ import annotations

import pytest
import time_machine

from dues.selectors import is_in_good_standing
from dues.services import plans
from tests.dues.conftest import JOINED, MONTHLY, charge, pay
from tests.factories import MemberFactory
from votes.models import VoteKind, VoteRoll

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def _roll(vote) -> set[int]:
    return set(VoteRoll.objects.filter(vote=vote).values_list("member_id", flat=True))


@time_machine.travel("2026-11-15 12:00:00+00:00", tick=False)
def test_arrears_beyond_grace_keep_a_member_off_the_roll_until_she_pays(
    make_vote, treasurer, bamako
):
    plans.set_dues_plan(
        actor=None,
        branch=bamako,
        monthly_amount=MONTHLY,
        solidarity_amount=500,
        grace_months=3,
        confirm_threshold=5000,
    )
    behind = MemberFactory(branch=bamako, joined_on=JOINED)
    paid_up = MemberFactory(branch=bamako, joined_on=JOINED)
    charge(bamako, "2026-07", "2026-08", "2026-09", "2026-10", "2026-11")
    pay(treasurer, paid_up, 5000, "R1")

    today = make_vote(VoteKind.MOTION, title="Opened today")
    assert paid_up.pk in _roll(today)
    assert behind.pk not in _roll(today)

    pay(treasurer, behind, 5000, "R2")
    assert is_in_good_standing(behind)
    later = make_vote(VoteKind.MOTION, title="Opened after she paid")
    assert behind.pk in _roll(later)
    # The first roll was frozen when that vote opened: paying does not rewrite it.
    assert behind.pk not in _roll(today)
