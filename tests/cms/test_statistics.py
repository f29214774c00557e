"""Live figures: drawn from the platform, rounded, and never small enough to point at anyone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import Client

from cms import statistics
from cms.blocks import LiveStatisticsBlock
from tests.factories import MemberFactory
from union.models import Branch, MemberStatus


@pytest.fixture
def registry() -> Iterator[None]:
    """Whatever a test registers is gone afterwards."""
    before = statistics.registered()
    yield
    statistics._registry.clear()
    statistics._registry.update(before)


def render(keys: list[str]) -> str:
    block = LiveStatisticsBlock()
    return block.render(block.to_python({"heading": "Today", "statistics": keys}))


def test_fewer_members_than_the_minimum_shows_nothing(db, bamako: Branch) -> None:
    MemberFactory.create_batch(9, branch=bamako)
    assert statistics.shown("members") is None
    assert render(["members"]).strip() == ""


def test_members_are_counted_rounded_down(db, bamako: Branch, segou: Branch) -> None:
    MemberFactory.create_batch(30, branch=bamako)
    MemberFactory.create_batch(17, branch=segou)
    MemberFactory.create_batch(5, branch=segou, status=MemberStatus.RESIGNED)
    MemberFactory.create_batch(4, branch=segou, applicant=True)
    shown = statistics.shown("members")
    assert shown is not None
    assert (shown.number, shown.rounded) == ("40", True)  # 47 people, shown as "40+"
    html = render(["members"])
    assert "40+" in html
    assert "47" not in html


def test_a_branch_too_small_to_show_is_not_counted(db, bamako: Branch, segou: Branch) -> None:
    MemberFactory.create_batch(12, branch=bamako)
    MemberFactory.create_batch(3, branch=segou)
    shown = statistics.shown("branches")
    assert shown is not None
    assert (shown.number, shown.rounded) == ("1", False)


@pytest.mark.parametrize(
    ("value", "expected"), [(10, 10), (47, 40), (99, 90), (213, 210), (3812, 3800), (12345, 12000)]
)
def test_rounding_keeps_two_significant_figures(value: int, expected: int) -> None:
    assert statistics.round_down(value) == expected


def test_only_registered_figures_are_offered_to_editors(registry: None) -> None:
    keys = [key for key, _label in statistics.choices()]
    assert keys == sorted(statistics.registered())
    assert {"branches", "members"} <= set(keys)
    # Call-outs and welfare come from the crisis and dues apps when they register them.
    statistics.register(
        "welfare_paid",
        label="paid out in welfare",
        provider=lambda: statistics.Figure(
            value=1_234_500, basis=31, currency="XOF", minor_digits=0
        ),
    )
    assert "welfare_paid" in [key for key, _label in statistics.choices()]
    shown = statistics.shown("welfare_paid")
    assert shown is not None
    assert (shown.number, shown.currency) == ("1,200,000", "XOF")


def test_money_paid_to_few_people_is_not_shown(registry: None, db) -> None:
    statistics.register(
        "welfare_paid",
        label="paid out in welfare",
        provider=lambda: statistics.Figure(value=900_000, basis=2, currency="XOF", minor_digits=0),
    )
    assert statistics.shown("welfare_paid") is None


def test_a_figure_that_is_no_longer_registered_disappears(registry: None, db) -> None:
    statistics.register("callouts", label="call-outs", provider=lambda: statistics.Figure(50, 50))
    assert "50" in render(["callouts"])
    statistics.unregister("callouts")
    assert render(["callouts"]).strip() == ""


def test_a_failing_provider_does_not_break_the_page(registry: None, db) -> None:
    def broken() -> statistics.Figure:
        raise RuntimeError("database on fire")

    statistics.register("broken", label="broken", provider=broken)
    assert statistics.shown("broken") is None


def test_the_demo_home_page_shows_members_and_branches(client: Client, site, bamako, segou) -> None:
    MemberFactory.create_batch(25, branch=bamako)
    MemberFactory.create_batch(11, branch=segou)
    html = client.get("/en/").content.decode()
    assert '<span class="figure">30+</span> <span class="label">members</span>' in html
    assert '<span class="figure">2</span> <span class="label">branches</span>' in html
