"""Paying approved applications: once, by someone who took no part, from a fund that can.

Personas: treasurer (BKO) pays; committee_a/b approved `approved` (Awa's 10 000 XOF).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction

from dues import money
from dues.models import Method
from dues.services import ledger
from dues.welfare import selectors
from dues.welfare.models import (
    ApplicationStatus,
    FeePayer,
    FundEntry,
    FundRule,
    Payout,
    PayoutStatus,
    WelfareApplication,
)
from dues.welfare.services import applications, payouts
from tests.conftest import _officer
from tests.dues.conftest import pay
from tests.dues.welfare.conftest import approve, fill, submit
from tests.factories import MemberFactory
from union.models import Notification, Role

pytestmark = pytest.mark.django_db


def _today():
    return money.local_today("Africa/Bamako")


def _pay(treasurer, application, **kwargs) -> Payout:
    return payouts.pay_application(
        actor=treasurer.user,
        application=application,
        method=kwargs.pop("method", Method.CASH),
        paid_on=kwargs.pop("paid_on", _today()),
        **kwargs,
    )


def test_the_treasurer_pays_an_approved_application(treasurer, approved, funded, awa):
    payout = _pay(treasurer, approved, method="mobile_money", provider="Orange", reference="OM1")
    approved.refresh_from_db()
    assert (approved.status, approved.paid_on) == (ApplicationStatus.PAID, _today())
    rows = list(FundEntry.objects.filter(payout=payout).values_list("kind", "amount"))
    assert rows == [("payout", -10_000)]
    assert selectors.fund_balance(funded.pk) == 90_000
    assert Notification.objects.filter(member=awa, kind="welfare_paid").count() == 1


def test_paying_twice_gives_one_payout(treasurer, approved):
    first = _pay(treasurer, approved)
    second = _pay(treasurer, approved)
    assert first.pk == second.pk
    assert Payout.objects.count() == 1
    assert FundEntry.objects.filter(kind="payout").count() == 1


@pytest.mark.parametrize("who", ["awa", "committee_a", "submitter"])
def test_nobody_pays_what_they_applied_for_submitted_or_approved(
    request, who, awa, bamako, funded, committee_a, committee_b, treasurer
):
    from union.models import RoleAssignment

    payer = {"awa": awa, "committee_a": committee_a}.get(who) or MemberFactory(
        branch=bamako, with_login=True
    )
    RoleAssignment.objects.get_or_create(
        member=payer, role=Role.TREASURER, branch=bamako, defaults={"starts_on": _today()}
    )
    if who == "submitter":
        RoleAssignment.objects.create(
            member=payer, role=Role.CRISIS_RESPONDER, branch=bamako, starts_on=_today()
        )
        application = approve(submit(awa, by=payer), committee_a, committee_b)
    else:
        application = approve(submit(awa), committee_a, committee_b)
    with pytest.raises(ValidationError):
        _pay(payer, application)
    assert not Payout.objects.exists()


def test_only_an_approved_application_is_paid(treasurer, awa, funded, committee_a, committee_b):
    application = submit(awa)
    with pytest.raises(ValidationError, match="approved"):
        _pay(treasurer, application)
    with pytest.raises(PermissionDenied):
        _pay(committee_a, approve(application, committee_a, committee_b))


def test_the_database_refuses_a_payout_for_an_application_not_approved(treasurer, awa, funded):
    application = submit(awa)
    with pytest.raises(IntegrityError, match="approved application"), transaction.atomic():
        Payout.objects.create(
            application=application,
            fund=funded,
            amount=100,
            currency="XOF",
            method="cash",
            paid_on=_today(),
            recorded_by=treasurer.user,
        )


def test_one_unreversed_payout_and_references_once_in_the_database(treasurer, approved, funded):
    payout = _pay(treasurer, approved, method="mobile_money", provider="Orange", reference="OM7")
    WelfareApplication.objects.filter(pk=approved.pk).update(status="approved", paid_on=None)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payout.objects.create(
            application=approved,
            fund=funded,
            amount=100,
            currency="XOF",
            method="cash",
            paid_on=_today(),
            recorded_by=treasurer.user,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        payouts.reverse_payout(actor=treasurer.user, payout=payout, reason="test")
        Payout.objects.create(
            application=approved,
            fund=funded,
            amount=100,
            currency="XOF",
            method="mobile_money",
            provider="Orange",
            reference="OM7",
            paid_on=_today(),
            recorded_by=treasurer.user,
        )


def test_a_payout_can_only_be_reversed_once_in_the_database(treasurer, approved):
    payout = _pay(treasurer, approved)
    for sql in (
        "UPDATE dues_payout SET amount = 1 WHERE id = %s",
        "DELETE FROM dues_payout WHERE id = %s",
        "UPDATE dues_payout SET status = 'reversed', amount = 1, reversed_at = now() WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [payout.pk])
    assert Payout.objects.get(pk=payout.pk).amount == 10_000


def test_a_reused_reference_is_refused(treasurer, approved, awa, committee_a, committee_b):
    _pay(treasurer, approved, method="mobile_money", provider="Orange", reference="OM1")
    other = approve(submit(awa, 5000), committee_a, committee_b)
    with pytest.raises(ValidationError, match="already recorded"):
        _pay(treasurer, other, method="mobile_money", provider="Orange", reference="OM1")


def test_a_date_before_the_decision_or_in_the_future_is_refused(treasurer, approved):
    for day in (_today() + timedelta(days=1), _today() - timedelta(days=1)):
        with pytest.raises(ValidationError, match="between the decision and today"):
            _pay(treasurer, approved, paid_on=day)


@pytest.mark.parametrize(
    ("payer", "sent", "out"), [(FeePayer.FUND, 10_000, 10_150), (FeePayer.PAYEE, 9850, 10_000)]
)
def test_provider_fees_are_rows_of_their_own_borne_as_the_rule_says(
    payer, sent, out, treasurer, approved, funded
):
    rule = approved.rule
    if payer == FeePayer.PAYEE:  # as if decided under a rule where the payee bears fees
        approved.rule = FundRule.objects.create(
            fund=funded,
            effective_from=rule.effective_from + timedelta(days=1),
            share_bp=rule.share_bp,
            fee_payer=FeePayer.PAYEE,
        )
        approved.save(update_fields=["rule"])
    payout = _pay(
        treasurer, approved, fee=150, method="bank_transfer", provider="BDM", reference="TRF001"
    )
    assert payout.amount == sent
    rows = dict(FundEntry.objects.filter(payout=payout).values_list("kind", "amount"))
    assert rows == {"payout": -sent, "fee": -150}
    assert selectors.fund_balance(funded.pk) == 100_000 - out


def test_a_failed_payout_is_reversed_and_the_application_can_be_paid_again(
    treasurer, approved, funded
):
    first = _pay(
        treasurer, approved, fee=100, method="mobile_money", provider="O", reference="MM0001"
    )
    payouts.reverse_payout(actor=treasurer.user, payout=first, reason="wrong number")
    payouts.reverse_payout(actor=treasurer.user, payout=first, reason="again")  # a no-op
    approved.refresh_from_db()
    assert approved.status == ApplicationStatus.APPROVED and approved.paid_on is None
    assert selectors.fund_balance(funded.pk) == 100_000 - 100  # the fee was not returned
    second = _pay(
        treasurer, approved, fee=100, method="mobile_money", provider="O", reference="MM0002"
    )
    payouts.reverse_payout(actor=treasurer.user, payout=second, reason="x", fee_returned=True)
    assert selectors.fund_balance(funded.pk) == 100_000 - 100
    third = _pay(treasurer, approved)
    assert Payout.objects.filter(status=PayoutStatus.PAID).get() == third
    assert selectors.fund_balance(funded.pk) == 100_000 - 100 - 10_000


def test_a_fund_that_cannot_afford_it_refuses(
    treasurer, awa, emergency_fund, committee_a, committee_b
):
    fill(emergency_fund, 5000)
    application = approve(submit(awa), committee_a, committee_b, over_available=True)
    with pytest.raises(ValidationError, match="cannot pay"):
        _pay(treasurer, application)
    assert not Payout.objects.exists()
    assert selectors.fund_balance(emergency_fund.pk) == 5000


def test_a_dues_correction_may_take_a_fund_below_zero_and_it_then_pays_nothing(
    treasurer, awa, bamako, emergency_fund, committee_a, committee_b
):
    payer = MemberFactory(branch=bamako)
    entry = pay(treasurer, payer, 50_000, "R1", method="cash")  # 10 000 to the fund
    secretary = _officer(bamako, Role.SECRETARY)
    ledger.confirm_payment(actor=secretary.user, entry=entry)
    application = approve(submit(awa, 10_000), committee_a, committee_b)
    _pay(treasurer, application)
    assert selectors.fund_balance(emergency_fund.pk) == 0
    reversal = ledger.reverse_entry(actor=treasurer.user, entry=entry, reason="counterfeit notes")
    # Above the threshold the correction counts once a second officer confirms it.
    assert selectors.fund_balance(emergency_fund.pk) == 0
    ledger.confirm_payment(actor=secretary.user, entry=reversal)
    assert selectors.fund_balance(emergency_fund.pk) == -10_000  # recorded all the same
    fill(emergency_fund, 10_500)
    small = approve(submit(awa, 1000), committee_a, committee_b, over_available=True)
    with pytest.raises(ValidationError, match="cannot pay"):
        _pay(treasurer, small)
    fill(emergency_fund, 500)
    _pay(treasurer, small)
    assert selectors.fund_balance(emergency_fund.pk) == 0


def test_an_old_approval_on_a_paid_application_changes_nothing(
    treasurer, approved, committee_c, funded
):
    _pay(treasurer, approved)
    with pytest.raises(ValidationError, match="paid already"):
        applications.approve_application(
            actor=committee_c.user,
            application=approved,
            amount=10_000,
            reason="old link",
            version=1,
        )
    approved.refresh_from_db()
    assert approved.status == ApplicationStatus.PAID
    assert Payout.objects.count() == 1
    assert selectors.fund_balance(funded.pk) == 90_000


def test_payout_details_are_revealed_to_the_treasurer_with_warnings(
    treasurer, awa, bamako, funded, committee_a, committee_b
):
    from dues.welfare.services.applications import Payee
    from union.crypto import keyed_hash

    committee_a.phone = "+22370000009"
    committee_a.phone_hash = keyed_hash("+22370000009")
    committee_a.save()
    application = approve(
        submit(
            awa,
            payee=Payee(
                kind="next_of_kin",
                name="Sister",
                method="mobile_money",
                provider="Orange",
                destination="70 00 00 09",
            ),
        ),
        committee_a,
        committee_b,
    )
    details = payouts.reveal_payee(actor=treasurer.user, application=application)
    assert details.destination == "+22370000009"
    assert details.warnings == ["This number is the phone of someone who approved it."]
    with pytest.raises(PermissionDenied):
        payouts.reveal_payee(actor=committee_b.user, application=application)


# --- races -------------------------------------------------------------------------------


def _race(*calls: Callable[[], object]) -> tuple[list[object], list[BaseException]]:
    barrier = threading.Barrier(len(calls))
    results: list[object] = []
    errors: list[BaseException] = []

    def run(call: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout=10)
            results.append(call())
        except BaseException as exc:  # collected for the assertions
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_payouts_of_one_application_make_one(treasurer, bamako, approved):
    other_treasurer = _officer(bamako, Role.TREASURER)
    results, errors = _race(
        lambda: _pay(treasurer, approved), lambda: _pay(other_treasurer, approved)
    )
    assert not errors
    assert len({payout.pk for payout in results}) == 1  # type: ignore[attr-defined]
    assert Payout.objects.count() == 1
    assert FundEntry.objects.filter(kind="payout").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_payouts_racing_for_a_fund_that_can_afford_one_make_one(
    treasurer, bamako, awa, emergency_fund, committee_a, committee_b
):
    fill(emergency_fund, 15_000)
    first = approve(submit(awa, 10_000), committee_a, committee_b)
    second = approve(submit(awa, 10_000), committee_a, committee_b, over_available=True)
    other_treasurer = _officer(bamako, Role.TREASURER)
    results, errors = _race(lambda: _pay(treasurer, first), lambda: _pay(other_treasurer, second))
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], ValidationError) and "cannot pay" in str(errors[0])
    assert selectors.fund_balance(emergency_fund.pk) == 5000


@pytest.mark.django_db(transaction=True)
def test_the_database_alone_stops_the_second_payout_when_the_service_checks_nothing(
    monkeypatch, treasurer, bamako, awa, emergency_fund, committee_a, committee_b
):
    fill(emergency_fund, 15_000)
    first = approve(submit(awa, 10_000), committee_a, committee_b)
    second = approve(submit(awa, 10_000), committee_a, committee_b, over_available=True)
    # Without the service's lock and balance check, only the trigger stands in the way.
    monkeypatch.setattr(payouts, "lock_funds", lambda ids: None)
    monkeypatch.setattr(payouts.selectors, "fund_balance", lambda fund_id: 10**9)
    other_treasurer = _officer(bamako, Role.TREASURER)
    results, errors = _race(lambda: _pay(treasurer, first), lambda: _pay(other_treasurer, second))
    assert len(results) == 1 and len(errors) == 1
    assert isinstance(errors[0], ValidationError) and errors[0].code == "balance"
    monkeypatch.undo()
    assert selectors.fund_balance(emergency_fund.pk) == 5000
