"""Rolls and moves: a roll frozen before a member moved keeps her where she was; the next
roll of her new branch has her once she is in good standing there.

Mid-November 2026, Bamako (1 000 XOF a month, 3 grace months) has charged July to
November. Awa paid everything; Mariam paid nothing (July is beyond the grace window).
Both move to Johannesburg (R50.00 a month); Mariam's arrears are carried at
1 XOF = 0.0302 ZAR, keeping their age.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
import time_machine

from dues.services import moves as dues_moves
from dues.services import plans
from tests.conftest import _officer
from tests.dues.conftest import JOINED, MONTHLY, charge, pay
from tests.factories import MemberFactory
from union.models import Role
from union.services import moves
from votes.models import VoteKind, VoteRoll

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def _roll(vote) -> set[int]:
    return set(VoteRoll.objects.filter(vote=vote).values_list("member_id", flat=True))


@time_machine.travel("2026-11-15 12:00:00+00:00", tick=False)
def test_frozen_rolls_keep_her_and_the_next_roll_of_her_new_branch_has_her_once_paid_up(
    make_vote, treasurer, bamako, johannesburg
):
    plans.set_dues_plan(
        actor=None,
        branch=bamako,
        monthly_amount=MONTHLY,
        solidarity_amount=500,
        grace_months=3,
        confirm_threshold=5000,
    )
    plans.set_dues_plan(
        actor=None,
        branch=johannesburg,
        monthly_amount=5000,
        solidarity_amount=2500,
        grace_months=3,
        confirm_threshold=50000,
    )
    jhb_secretary = _officer(johannesburg, Role.SECRETARY)
    jhb_treasurer = _officer(johannesburg, Role.TREASURER)
    awa = MemberFactory(branch=bamako, joined_on=JOINED)
    mariam = MemberFactory(branch=bamako, joined_on=JOINED)
    charge(bamako, "2026-07", "2026-08", "2026-09", "2026-10", "2026-11")
    pay(treasurer, awa, 5000, "R1")
    dues_moves.record_rate(
        actor=treasurer.user, branch=bamako, to_currency="ZAR", rate=Decimal("0.0302")
    )
    bamako_vote = make_vote(VoteKind.MOTION, title="Bamako, before the moves")
    assert awa.pk in _roll(bamako_vote) and mariam.pk not in _roll(bamako_vote)

    for person, closing in ((awa, "settled"), (mariam, "carried")):
        moves.move_member(
            actor=jhb_secretary.user,
            member=person,
            from_branch=bamako,
            to_branch=johannesburg,
            answers={"dues": {"closing": closing}},
        )
        person.refresh_from_db()

    first = make_vote(
        VoteKind.MOTION, branch=johannesburg, officer=jhb_secretary, title="Johannesburg 1"
    )
    assert awa.pk in _roll(first)
    assert mariam.pk not in _roll(first)  # R151.00 carried, owed since July

    pay(jhb_treasurer, mariam, 15100, "JHB-1")
    second = make_vote(
        VoteKind.MOTION, branch=johannesburg, officer=jhb_secretary, title="Johannesburg 2"
    )
    assert {awa.pk, mariam.pk} <= _roll(second)
    # Frozen rolls are not rewritten: Awa stays on Bamako's, Mariam off Johannesburg's first.
    assert awa.pk in _roll(bamako_vote) and mariam.pk not in _roll(first)
    later_bamako = make_vote(VoteKind.MOTION, title="Bamako, after the moves")
    assert not {awa.pk, mariam.pk} & _roll(later_bamako)
