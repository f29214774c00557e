"""The funds' published figures: exact where they aggregate enough, hidden where they would
point at someone, and never recoverable from what is shown.

WELFARE_SMALLEST_GROUP is 3 in these tests: a month's payouts are shown from 3 payouts on.
"""

from __future__ import annotations

from datetime import date

import pytest

from cms import statistics
from dues.welfare import transparency
from dues.welfare.models import Purpose
from tests.dues.welfare.conftest import approve, fill, submit
from tests.factories import MemberFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _small_groups(settings):
    settings.WELFARE_SMALLEST_GROUP = 3


def _month(month: int, money_in: int, out: int, events: int) -> transparency.Month:
    return transparency.Month(
        month=date(2026, month, 1), money_in=money_in, transfers=0, money_out=out, events=events
    )


def _balance(months: list[transparency.Month]) -> int:
    return sum(m.money_in + m.transfers - (m.money_out or 0) for m in months)


def test_months_with_enough_payouts_are_shown():
    months = [_month(10, 9000, 600, 3), _month(11, 0, 1500, 3)]
    assert transparency.suppress_months(months, _balance(months)) == 6900
    assert [m.money_out for m in months] == [600, 1500]


def test_a_small_month_is_hidden_with_a_complement_so_it_cannot_be_worked_out():
    months = [_month(9, 5000, 600, 3), _month(10, 5000, 4600, 4), _month(11, 5000, 7777, 1)]
    balance = transparency.suppress_months(months, _balance(months))
    by_month = {m.month.month: m.money_out for m in months}
    assert by_month[11] is None
    # Balance and money in are shown, so November alone could be found again: the month
    # with the least out (September) is hidden with it.
    assert by_month[9] is None and by_month[10] == 4600
    _assert_not_recoverable(months, balance, 7777)


def test_when_no_month_can_hide_it_the_balance_is_hidden():
    months = [_month(10, 9000, 0, 0), _month(11, 0, 7777, 1)]
    assert transparency.suppress_months(months, _balance(months)) is None
    assert months[1].money_out is None
    _assert_not_recoverable(months, None, 7777)


def test_two_small_months_hide_each_other():
    months = [_month(10, 5000, 300, 1), _month(11, 5000, 700, 2), _month(12, 0, 900, 3)]
    assert transparency.suppress_months(months, _balance(months)) is not None
    assert [m.money_out for m in months] == [None, None, 900]


def _assert_not_recoverable(months, balance, secret: int) -> None:
    """No published number, nor what the balance leaves for the hidden months, is the
    secret."""
    published = [balance] + [v for m in months for v in (m.money_in, m.transfers, m.money_out)]
    assert secret not in published
    if balance is not None:
        hidden_total = sum(m.money_in + m.transfers - (m.money_out or 0) for m in months) - balance
        assert hidden_total != secret


@pytest.fixture
def app(awa, funded, committee_a, committee_b):
    return approve(submit(awa, 1000), committee_a, committee_b)


def test_a_funds_figures_come_from_its_ledger(funded, app, treasurer):
    from dues.money import local_today
    from dues.welfare.services import payouts

    payouts.pay_application(
        actor=treasurer.user, application=app, method="cash", paid_on=local_today("UTC")
    )
    figures = transparency.fund_figures([funded])[0]
    assert len(figures.months) == 1
    assert figures.months[0].money_in == 100_000
    assert figures.months[0].money_out is None  # one payout
    assert figures.balance is None


def test_payouts_by_purpose_hide_small_rows_a_complement_and_never_name_anyone(
    bamako,
    funded,
    legal_fund,
    committee_a,
    committee_b,
    national_committee_a,
    national_committee_b,
    treasurer,
):
    from dues.money import local_today
    from dues.welfare.services import payouts
    from tests.dues.welfare.conftest import make_fund

    make_fund(bamako, Purpose.MEDICAL, 0, good_standing_required=False)
    from dues.welfare.models import Fund

    fill(Fund.objects.get(branch=bamako, purpose=Purpose.MEDICAL), 100_000)
    fill(legal_fund, 100_000)
    today = local_today("Africa/Bamako")

    def paid(purpose: str, amount: int) -> None:
        member = MemberFactory(branch=bamako, working_name="Canary-Zebra", with_login=True)
        # The legal fund is national: the national committee decides.
        deciders = (
            (national_committee_a, national_committee_b)
            if purpose == Purpose.LEGAL
            else (committee_a, committee_b)
        )
        application = approve(submit(member, amount, purpose=purpose), *deciders)
        payouts.pay_application(
            actor=treasurer.user, application=application, method="cash", paid_on=today
        )

    for amount in (1000, 2000, 3000, 4000):
        paid(Purpose.EMERGENCY, amount)
    for amount in (500, 600, 700):
        paid(Purpose.MEDICAL, amount)
    paid(Purpose.LEGAL, 9999)
    table = transparency.purpose_table(bamako)
    rows = {row.purpose: row for row in table.rows}
    assert rows[Purpose.LEGAL].count is None  # one payout
    assert rows[Purpose.MEDICAL].count is None  # the complement: the smallest shown row
    assert (rows[Purpose.EMERGENCY].count, rows[Purpose.EMERGENCY].granted) == (4, 10_000)
    assert table.total is not None and table.total.granted == 10_000 + 1800 + 9999
    assert rows[Purpose.FUNERAL].count == 0


def test_the_public_figure_of_money_paid_has_its_payouts_as_basis(
    bamako, funded, app, treasurer, committee_a, committee_b
):
    from dues.money import local_today
    from dues.welfare.services import payouts

    payouts.pay_application(
        actor=treasurer.user, application=app, method="cash", paid_on=local_today("UTC")
    )
    figure = transparency.paid_figure()
    assert (figure.value, figure.basis, figure.currency) == (1000, 1, "XOF")
    assert statistics.shown("welfare_paid") is None  # one payout: never shown
    assert "welfare_paid" in dict(statistics.choices())
