"""A loan repayment recorded by mistake is reversed, once, with a reason: the loan owes it
again, the fund gives it back, its transaction reference can be recorded again, and the
database refuses any other change to a repayment.

Personas: awa's loan of 9,000 XOF, paid; treasurer records and reverses repayments.
"""

# ruff: noqa: F811 - the loan fixtures come from test_rules, imported by name
from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from dues.models import Method
from dues.welfare import selectors
from dues.welfare.audit import WelfareAction
from dues.welfare.models import FundEntry, FundEntryKind, LoanRepayment
from dues.welfare.services import loans
from tests.conftest import _officer
from tests.dues.welfare.test_payouts import _race
from tests.dues.welfare.test_rules import _repay, lending, loan  # noqa: F401 - fixtures
from union.models import AuditEvent, Role, RoleAssignment

pytestmark = [pytest.mark.django_db, pytest.mark.embedded]


def _reverse(officer, repayment, reason="Typed 4,000 for 400."):
    return loans.reverse_repayment(actor=officer.user, repayment=repayment, reason=reason)


def test_a_reversed_repayment_is_owed_again_and_leaves_the_fund(loan, lending, treasurer):
    balance = selectors.fund_balance(lending.pk)
    wrong = _repay(
        treasurer, loan, 4_000, method="mobile_money", provider="Orange", reference="OMR7"
    )
    assert selectors.loan_outstanding(loan) == 5_000

    reversed_ = _reverse(treasurer, wrong)

    assert reversed_.reversed_at is not None and reversed_.reversed_by == treasurer.user
    assert reversed_.reversal_reason == "Typed 4,000 for 400."
    assert selectors.loan_outstanding(loan) == 9_000
    assert list(selectors.loans_for(treasurer.user)) == [loan]
    assert selectors.fund_balance(lending.pk) == balance
    back = FundEntry.objects.get(kind=FundEntryKind.REPAYMENT_REVERSAL)
    assert back.amount == -4_000 and back.reverses == FundEntry.objects.get(repayment=wrong)
    assert AuditEvent.objects.filter(action=WelfareAction.UNREPAY).count() == 1
    # The right amount, with the same transaction reference, is recorded again.
    _repay(treasurer, loan, 400, method="mobile_money", provider="Orange", reference="OMR7")
    assert selectors.loan_outstanding(loan) == 8_600


def test_a_fully_repaid_loan_can_still_be_corrected(loan, treasurer):
    whole = _repay(treasurer, loan, 9_000)
    assert list(selectors.loans_for(treasurer.user)) == []
    _reverse(treasurer, whole)
    assert selectors.loan_outstanding(loan) == 9_000


def test_reversing_twice_or_without_a_reason_changes_nothing(loan, treasurer, awa):
    repayment = _repay(treasurer, loan, 1_000)
    with pytest.raises(ValidationError, match="Say what went wrong"):
        _reverse(treasurer, repayment, reason="  ")
    assert selectors.loan_outstanding(loan) == 8_000
    _reverse(treasurer, repayment)
    with pytest.raises(ValidationError, match="already reversed"):
        _reverse(treasurer, repayment, reason="again")
    assert FundEntry.objects.filter(kind=FundEntryKind.REPAYMENT_REVERSAL).count() == 1
    assert LoanRepayment.objects.get().reversal_reason == "Typed 4,000 for 400."
    assert selectors.loan_outstanding(loan) == 9_000


def test_the_member_herself_cannot_reverse_her_repayment(loan, treasurer, awa, bamako):
    repayment = _repay(treasurer, loan, 1_000)
    RoleAssignment.objects.create(
        member=awa, role=Role.TREASURER, branch=bamako, starts_on=loan.submitted_at.date()
    )
    with pytest.raises(ValidationError, match="another officer"):
        loans.reverse_repayment(actor=awa.user, repayment=repayment, reason="Mine.")
    assert selectors.loan_outstanding(loan) == 8_000


def test_the_database_lets_only_the_reversal_change_a_repayment(loan, treasurer):
    repayment = _repay(treasurer, loan, 1_000)
    table = LoanRepayment._meta.db_table
    for sql in (
        f"UPDATE {table} SET amount = 10 WHERE id = %s",  # noqa: S608 - a model's table
        f"DELETE FROM {table} WHERE id = %s",  # noqa: S608
    ):
        with (
            pytest.raises(Exception, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [repayment.pk])
    _reverse(treasurer, repayment)
    with pytest.raises(Exception, match="append-only"), transaction.atomic():  # only once
        LoanRepayment.objects.filter(pk=repayment.pk).update(reversal_reason="Another story.")
    with pytest.raises(IntegrityError), transaction.atomic():  # one reversal of its fund row
        original = FundEntry.objects.get(repayment=repayment)
        FundEntry.objects.create(
            fund_id=original.fund_id,
            kind=FundEntryKind.REPAYMENT_REVERSAL,
            amount=-1_000,
            currency="XOF",
            booked_on=original.booked_on,
            reverses=original,
        )


@pytest.mark.vendor("postgresql")
def test_postgresql_refuses_a_reversal_row_that_does_not_match_its_repayment(loan, treasurer):
    repayment = _repay(treasurer, loan, 1_000)
    original = FundEntry.objects.get(repayment=repayment)
    for amount in (-1_000, -999):  # not reversed yet; then the wrong amount
        if amount == -999:
            LoanRepayment.objects.filter(pk=repayment.pk).update(
                reversed_at=original.recorded_at, reversed_by=treasurer.user, reversal_reason="x"
            )
        with pytest.raises(IntegrityError, match="matching row"), transaction.atomic():
            FundEntry.objects.create(
                fund_id=original.fund_id,
                kind=FundEntryKind.REPAYMENT_REVERSAL,
                amount=amount,
                currency="XOF",
                booked_on=original.booked_on,
                reverses=original,
            )


@pytest.mark.django_db(transaction=True)
def test_two_treasurers_reversing_at_once_reverse_once(loan, bamako, treasurer):
    repayment = _repay(treasurer, loan, 3_000)
    other = _officer(bamako, Role.TREASURER)
    results, errors = _race(
        lambda: _reverse(treasurer, repayment), lambda: _reverse(other, repayment)
    )
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], ValidationError) and "already reversed" in str(errors[0])
    assert FundEntry.objects.filter(kind=FundEntryKind.REPAYMENT_REVERSAL).count() == 1
    assert selectors.loan_outstanding(loan) == 9_000


def test_the_treasurer_reverses_from_the_repayments_screen_in_french(
    client, login, loan, treasurer, awa, settings
):
    repayment = _repay(treasurer, loan, 2_000, method=Method.CASH)
    login(client, treasurer)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    page = reverse("dues:welfare_repay", args=[loan.public_id])
    action = reverse("dues:welfare_reverse_repayment", args=[repayment.public_id])
    assert action in client.get(page).content.decode()
    refused = client.post(action, {"reason": ""}, follow=True)
    assert "Dites ce qui n&#x27;a pas marché." in refused.content.decode()
    assert selectors.loan_outstanding(loan) == 7_000
    done = client.post(action, {"reason": "Saisi deux fois."}, follow=True)
    text = done.content.decode()
    assert done.redirect_chain[-1][0] == page
    assert "Le remboursement est annulé" in text
    assert "annulé, saisi par erreur" in text
    assert selectors.loan_outstanding(loan) == 9_000
    client.force_login(awa.user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    mine = client.get(reverse("dues:welfare_mine", args=[loan.public_id])).content.decode()
    assert "annulé : saisi par erreur" in mine
