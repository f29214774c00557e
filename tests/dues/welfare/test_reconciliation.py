"""The daily reconciliation of payouts against the cash book and the operator's statement.

Personas: the treasurer (BKO) pays, imports statements and explains; the national
coordinator is an auditor (exports the ledgers everywhere); a member sees nothing here.
Applications are Awa's, approved by committee_a and committee_b, from the funded BKO
emergency fund (tests/dues/welfare/conftest.py).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dues import money
from dues.models import Method
from dues.services import cashbook
from dues.welfare.models import Payout
from dues.welfare.services import payouts, reconciliation
from dues.welfare.services.reconciliation import ParsedLine
from dues.welfare.statements import Problem, Reconciliation, ReconciliationItem, StatementLine
from tests.dues.conftest import pay
from tests.dues.welfare.conftest import approve, submit
from tests.dues.welfare.test_payouts import _race
from union import registry
from union.models import Notification

pytestmark = pytest.mark.django_db


def _today():
    return money.local_today("Africa/Bamako")


@pytest.fixture
def day():
    return _today() - timedelta(days=1)


@pytest.fixture
def paid(awa, funded, committee_a, committee_b, treasurer, day):
    """Two payouts of yesterday: one by mobile money (OM-1, 10 000), one in cash (4 000)."""

    def _paid(amount: int, **kwargs) -> Payout:
        application = approve(submit(awa, amount), committee_a, committee_b)
        return payouts.pay_application(
            actor=treasurer.user, application=application, paid_on=day, **kwargs
        )

    with time_machine.travel(datetime.combine(day, time(12), tzinfo=UTC), tick=False):
        return {
            "mobile": _paid(
                10_000, method="mobile_money", provider="Orange Money", reference="OM-1"
            ),
            "cash": _paid(4_000, method=Method.CASH),
        }


def _import(treasurer, bamako, *lines: ParsedLine, provider: str = "Orange Money"):
    return reconciliation.import_statement(
        actor=treasurer.user, branch=bamako, provider=provider, lines=lines
    )


def _open(bamako, day) -> dict[str, str]:
    """Open items of the day: key -> problem."""
    return dict(
        ReconciliationItem.objects.filter(
            reconciliation__branch=bamako,
            reconciliation__day=day,
            cleared_at__isnull=True,
            explained_at__isnull=True,
        ).values_list("key", "problem")
    )


def _key(payout: Payout) -> str:
    return f"payout:{payout.public_id}"


def test_without_a_statement_or_a_closed_cash_book_both_payouts_are_unmatched(bamako, paid, day):
    run = reconciliation.reconcile_day(branch=bamako, day=day)
    assert (run.matched, run.unmatched) == (0, 2)
    assert _open(bamako, day) == {
        _key(paid["mobile"]): Problem.NO_STATEMENT,
        _key(paid["cash"]): Problem.CASH_BOOK_OPEN,
    }


def test_the_statement_and_the_closed_cash_book_match_every_payout(bamako, paid, day, treasurer):
    cashbook.close_cash_book(actor=treasurer.user, branch=bamako, day=day)
    _import(treasurer, bamako, ParsedLine(day, "OM-1", -10_000, 100))
    run = Reconciliation.objects.get(branch=bamako, day=day)
    assert (run.matched, run.unmatched) == (2, 0)
    assert _open(bamako, day) == {}


def test_a_statement_that_lacks_a_payout_or_shows_another_amount_is_flagged(
    bamako, paid, day, treasurer, awa
):
    _import(
        treasurer,
        bamako,
        ParsedLine(day - timedelta(days=1), "OM-0", -500, 0),  # the statement covers the day
        ParsedLine(day + timedelta(days=1), "OM-9", 2_000, 0),
    )
    reconciliation.reconcile_day(branch=bamako, day=day)
    assert _open(bamako, day)[_key(paid["mobile"])] == Problem.NOT_ON_STATEMENT

    _import(treasurer, bamako, ParsedLine(day, "OM-1", -9_000, 0))
    assert _open(bamako, day)[_key(paid["mobile"])] == Problem.AMOUNT_DIFFERS


def test_a_statement_line_nothing_here_recorded_is_flagged_and_dues_are_recognised(
    bamako, paid, day, treasurer, awa
):
    pay(
        treasurer,
        awa,
        1_000,
        "R-1",
        method=Method.MOBILE_MONEY,
        provider="Orange Money",
        external_id="OM-DUES",
        paid_on=day,
    )
    _import(
        treasurer,
        bamako,
        ParsedLine(day, "OM-1", -10_000, 0),
        ParsedLine(day, "OM-DUES", 1_000, 0),
        ParsedLine(day, "OM-STRANGE", -3_000, 0),
    )
    line = StatementLine.objects.get(reference="OM-STRANGE")
    assert _open(bamako, day) == {
        f"line:{line.public_id}": Problem.NOT_RECORDED,
        _key(paid["cash"]): Problem.CASH_BOOK_OPEN,
    }


def test_a_cash_payout_recorded_after_the_close_is_not_in_the_cash_book(
    bamako, awa, funded, committee_a, committee_b, treasurer, day
):
    cashbook.close_cash_book(actor=treasurer.user, branch=bamako, day=day)
    with time_machine.travel(datetime.combine(day, time(18), tzinfo=UTC), tick=False):
        application = approve(submit(awa, 3_000), committee_a, committee_b)
        late = payouts.pay_application(
            actor=treasurer.user, application=application, paid_on=day, method=Method.CASH
        )
    reconciliation.reconcile_day(branch=bamako, day=day)
    assert _open(bamako, day) == {_key(late): Problem.NOT_IN_CASH_BOOK}


def test_the_close_lists_the_days_cash_payouts(bamako, paid, day, treasurer):
    close = cashbook.close_cash_book(actor=treasurer.user, branch=bamako, day=day)
    assert close.cash_payouts == [str(paid["cash"].public_id)]
    assert close.cash_out_total == 4_000


def test_running_a_day_twice_gives_the_same_result(bamako, paid, day):
    first = reconciliation.reconcile_day(branch=bamako, day=day)
    items = list(ReconciliationItem.objects.order_by("id").values())
    second = reconciliation.reconcile_day(branch=bamako, day=day)
    assert second.pk == first.pk
    assert (second.matched, second.unmatched) == (first.matched, first.unmatched)
    assert list(ReconciliationItem.objects.order_by("id").values()) == items
    assert Reconciliation.objects.count() == 1


def test_a_later_run_clears_what_now_matches_and_keeps_it_for_the_auditor(
    bamako, paid, day, treasurer
):
    reconciliation.reconcile_day(branch=bamako, day=day)
    cashbook.close_cash_book(actor=treasurer.user, branch=bamako, day=day)
    reconciliation.reconcile_recent()  # the daily job looks at open days again
    cleared = ReconciliationItem.objects.get(key=_key(paid["cash"]))
    assert cleared.cleared_at is not None
    assert _open(bamako, day) == {_key(paid["mobile"]): Problem.NO_STATEMENT}


def test_a_reversed_payout_is_not_expected_on_the_statement(bamako, paid, day, treasurer):
    payouts.reverse_payout(actor=treasurer.user, payout=paid["mobile"], reason="Wrong number")
    reconciliation.reconcile_day(branch=bamako, day=day)
    assert _key(paid["mobile"]) not in _open(bamako, day)


def test_the_treasurer_and_the_auditor_are_told_once(
    bamako, paid, day, treasurer, national_coordinator, member
):
    reconciliation.reconcile_day(branch=bamako, day=day)
    reconciliation.reconcile_day(branch=bamako, day=day)
    told = Notification.objects.filter(kind="welfare_unmatched")
    assert sorted(told.values_list("member_id", flat=True)) == sorted(
        [treasurer.pk, national_coordinator.pk]
    )


def test_the_daily_job_is_registered_and_checks_yesterday(bamako, paid, day):
    jobs = {job.name: job for job in registry.periodic_jobs()}
    assert jobs["welfare-reconcile-payouts"].task == "dues.tasks.reconcile_welfare_payouts"
    from dues.tasks import reconcile_welfare_payouts

    assert reconcile_welfare_payouts.apply().get() >= 1
    assert Reconciliation.objects.filter(branch=bamako, day=day).exists()


def test_a_reference_imported_with_other_figures_refuses_the_statement(
    bamako, paid, day, treasurer
):
    _import(treasurer, bamako, ParsedLine(day, "OM-1", -10_000, 0))
    with pytest.raises(ValidationError, match="imported before"):
        _import(treasurer, bamako, ParsedLine(day, "OM-1", -1_000, 0), ParsedLine(day, "X-2", 5, 0))
    assert StatementLine.objects.count() == 1
    again = _import(treasurer, bamako, ParsedLine(day, "OM-1", -10_000, 0))
    assert (again.created, again.repeated) == (0, 1)


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"when,what\n2026-01-01,1\n", "needs the columns"),
        (b"date,reference,amount\nnot a date,OM-1,-10\n", "Line 2"),
        (b"date,reference,amount\n2026-01-01,OM-1,ten\n", "Line 2"),
        (b"date,reference,amount\n", "no lines"),
    ],
)
def test_a_bad_statement_is_explained(content, error):
    with pytest.raises(ValidationError, match=error):
        reconciliation.parse_statement(content, "statement.csv", "XOF")


def test_a_french_statement_with_fees_is_read():
    content = "Date;Référence;Montant;Frais\n05/11/2026;OM-1;-10 000;100\n".encode("cp1252")
    assert reconciliation.parse_statement(content, "releve.csv", "XOF") == [
        ParsedLine(date(2026, 11, 5), "OM-1", -10_000, 100)
    ]


# --- the screen ---------------------------------------------------------------------------


def test_the_treasurer_imports_a_statement_and_sees_what_did_not_match(
    client, login, bamako, paid, day, treasurer
):
    login(client, treasurer)
    upload = f"date,reference,amount\n{day.isoformat()},OM-1,-10000\n".encode()
    response = client.post(
        reverse("dues:welfare_statement"),
        {
            "branch": "BKO",
            "provider": "Orange Money",
            "statement": SimpleUploadedFile("statement.csv", upload, "text/csv"),
        },
    )
    assert response.status_code == 302
    page = client.get(reverse("dues:welfare_reconciliation")).content.decode()
    assert "Paid in cash, but the cash book of the day is not closed" in page
    assert "Canary-Zebra" not in page  # lines name no member


def test_a_bad_upload_changes_nothing_and_says_why(client, login, bamako, treasurer):
    login(client, treasurer)
    response = client.post(
        reverse("dues:welfare_statement"),
        {
            "branch": "BKO",
            "provider": "Orange Money",
            "statement": SimpleUploadedFile("statement.csv", b"a,b\n1,2\n", "text/csv"),
        },
    )
    assert response.status_code == 400
    assert "needs the columns date, reference and amount" in response.content.decode()
    assert not StatementLine.objects.exists()


def test_the_auditor_explains_an_item_and_it_leaves_the_queue(
    client, login, bamako, paid, day, national_coordinator
):
    reconciliation.reconcile_day(branch=bamako, day=day)
    item = ReconciliationItem.objects.get(key=_key(paid["cash"]))
    login(client, national_coordinator)
    assert "Not matched" in client.get(reverse("dues:welfare_reconciliation")).content.decode()
    response = client.post(
        reverse("dues:welfare_explain", args=[item.pk]), {"explanation": "Receipt found."}
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert (item.explanation, item.explained_by_id) == (
        "Receipt found.",
        national_coordinator.user.pk,
    )
    assert _key(paid["cash"]) not in _open(bamako, day)
    # A later run leaves an explained item explained.
    reconciliation.reconcile_day(branch=bamako, day=day)
    assert _key(paid["cash"]) not in _open(bamako, day)


def test_a_member_sees_no_reconciliation(client, login, bamako, paid, day, member):
    reconciliation.reconcile_day(branch=bamako, day=day)
    item = ReconciliationItem.objects.first()
    login(client, member)
    assert client.get(reverse("dues:welfare_reconciliation")).status_code == 403
    assert (
        client.post(
            reverse("dues:welfare_explain", args=[item.pk]), {"explanation": "x"}
        ).status_code
        == 403
    )


@pytest.mark.django_db(transaction=True)
def test_two_runs_of_one_day_at_once_give_one_result(bamako, paid, day):
    _results, errors = _race(
        lambda: reconciliation.reconcile_day(branch=bamako, day=day),
        lambda: reconciliation.reconcile_day(branch=bamako, day=day),
    )
    assert not errors
    assert Reconciliation.objects.count() == 1
    assert ReconciliationItem.objects.count() == 2


def test_the_queue_costs_the_same_for_many_lines(client, login, bamako, treasurer):
    login(client, treasurer)
    day = _today()

    def lines(count: int) -> int:
        run, _ = Reconciliation.objects.get_or_create(branch=bamako, day=day)
        start = run.items.count()
        ReconciliationItem.objects.bulk_create(
            ReconciliationItem(
                reconciliation=run,
                key=f"line:{start + n}",
                problem=Problem.NOT_RECORDED,
                amount=-100,
                currency="XOF",
            )
            for n in range(count)
        )
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("dues:welfare_reconciliation")).status_code == 200
        return len(queries)

    client.get(reverse("dues:welfare_reconciliation"))  # the session's first request costs more
    assert lines(2) == lines(20)
