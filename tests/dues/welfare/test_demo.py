"""The demo union's welfare funds: loaded by load_demo, through the services, once."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from dues.welfare import selectors, transparency
from dues.welfare.models import ApplicationStatus, Fund, Review, WelfareApplication
from union.models import Branch

pytestmark = pytest.mark.django_db


def test_the_demo_union_has_funds_and_applications_at_every_step():
    call_command("load_demo", members=90, stdout=StringIO())
    bamako = Branch.objects.get(code="BKO")
    assert set(Fund.objects.filter(branch=bamako).values_list("purpose", flat=True)) == {
        "emergency",
        "medical",
        "funeral",
    }
    assert Fund.objects.filter(branch__is_national=True, purpose="legal").exists()
    statuses = set(WelfareApplication.objects.values_list("status", flat=True))
    assert statuses == {
        ApplicationStatus.PAID,
        ApplicationStatus.APPROVED,
        ApplicationStatus.PENDING,
        ApplicationStatus.NEEDS_INFO,
    }
    assert WelfareApplication.objects.filter(emergency=True, review=Review.PENDING).exists()
    for fund in selectors.funds_with_figures(Fund.objects.all()):
        assert fund.balance > 0
    figures = transparency.fund_figures(transparency.funds_for_member(bamako))
    assert any(m.money_out for f in figures for m in f.months)  # six payouts this month

    rows = WelfareApplication.objects.count()
    out = StringIO()
    call_command("load_demo_welfare", stdout=out)
    assert "already present" in out.getvalue()
    assert WelfareApplication.objects.count() == rows
