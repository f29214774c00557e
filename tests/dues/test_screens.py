"""Dues screens: who may open which, and what officers and members see and do there.

The matrix is the policy written out; every cell is a test about a Bamako (BKO) member
or entry (personas in tests/conftest.py):

    login  redirected to the sign-in page (not signed in)
    403    signed in, but no role gives this right
    404    the right exists, but only for another branch (or it is someone else's receipt)
    ok     allowed: 200, or a redirect that is not to sign-in or the second factor

OWN_ACCOUNT is the conflict-of-interest rule: an officer posting an action on her own dues
account is refused with a message and nothing is written (own), unless no role gives
her the action at all (403).
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from dues import money
from dues.audit import DuesAction
from dues.models import DuesAccount, EntryKind, LedgerEntry, PaymentConfirmation, Rate
from tests import access
from tests.access import assert_access, cells
from tests.conftest import _officer
from tests.dues.conftest import JOINED, THRESHOLD, charge, pay
from tests.factories import MemberFactory
from union.models import AuditEvent, Role

pytestmark = pytest.mark.django_db

MATRIX = """
url             anon   member  secretary  treasurer  crisis  other_sec  ended  national
dashboard       login  403     ok         ok         403     ok         403    ok
find_member     login  403     ok         ok         403     ok         403    ok
member_account  login  403     ok         ok         403     404        403    ok
ledger          login  403     ok         ok         403     ok         403    ok
arrears         login  403     ok         ok         403     ok         403    ok
cashbook        login  403     ok         ok         403     ok         403    ok
plan            login  403     403        ok         403     403        403    ok
exchange_rates  login  403     403        ok         403     403        403    ok
export          login  403     403        ok         403     403        403    ok
stripe_events   login  403     ok         ok         403     ok         403    ok
reverse         login  403     403        ok         403     403        403    403
receipt         login  404     ok         ok         404     404        404    ok
my              login  ok      ok         ok         ok      ok         ok     ok
statement       login  ok      ok         ok         ok      ok         ok     ok
"""

ADDRESSES = [f"dues:{name}" for name in access.row_names(MATRIX)]

PERSONAS = {
    "anon": None,
    "member": "member",
    "secretary": "secretary",
    "treasurer": "treasurer",
    "crisis": "crisis_responder",
    "other_sec": "other_secretary",
    "ended": "ended_secretary",
    "national": "national_coordinator",
}


@pytest.fixture
def bko(bamako, bko_plan, segou, seg_plan, treasurer):
    target = MemberFactory(branch=bamako, joined_on=JOINED, working_name="Fanta Target")
    charge(bamako, "2026-11")
    entry = pay(treasurer, target, 1000, "R100")
    return {"member": target, "entry": entry}


def _url(name: str, objects: dict) -> str:
    if name == "member_account":
        return reverse("dues:member_account", args=[objects["member"].public_id])
    if name in ("reverse", "receipt"):
        return reverse(f"dues:{name}", args=[objects["entry"].public_id])
    if name in ("plan", "exchange_rates"):
        return reverse(f"dues:{name}", args=["BKO"])
    return reverse(f"dues:{name}")


@pytest.mark.parametrize(("url_name", "persona", "expected"), cells(MATRIX, PERSONAS))
def test_access(client, login, request, bko, url_name, persona, expected):
    fixture = PERSONAS[persona]
    if fixture is not None:
        login(client, request.getfixturevalue(fixture))
    response = client.get(_url(url_name, bko), follow=expected == "404")
    assert_access(response, expected)


# The screens that only take a POST (a GET answers 405), each posted with a harmless change
# about BKO's member or a BKO entry above the threshold recorded by the treasurer (her own
# confirmation is then refused by the two-officer rule, with a message: allowed here, and
# tested in tests/dues/test_payments.py and test_corrections.py). Card
# payments and their cancellation are the member's own: with Stripe off, every signed-in
# member is told so. The Stripe webhook refuses an unsigned post.
POST_MATRIX = """
url                  anon   member  secretary  treasurer  crisis  other_sec  ended  national
record_payment       login  403     403        ok         403     403        403    403
grant_waiver         login  403     403        ok         403     403        403    403
set_rate             login  403     403        ok         403     403        403    403
confirm              login  403     ok         ok         403     404        403    ok
cashbook_close       login  403     403        ok         403     403        403    403
pay_card             login  ok      ok         ok         ok      ok         ok     ok
cancel_subscription  login  ok      ok         ok         ok      ok         ok     ok
stripe_webhook       400    400     400        400        400     400        400    400
"""
POST_DATA = {
    "record_payment": {"amount": "1000", "method": "cash", "receipt_number": "X9"},
    "grant_waiver": {"amount": "1000", "reason": "hardship"},
    "set_rate": {"rate": Rate.SOLIDARITY},
    "confirm": {},
    "cashbook_close": {},
    "pay_card": {},
    "cancel_subscription": {},
    "stripe_webhook": {},
}
ADDRESSES += [f"dues:{name}" for name in access.row_names(POST_MATRIX)]


@pytest.fixture
def everyone(request) -> dict:
    return {
        persona: None if fixture is None else request.getfixturevalue(fixture)
        for persona, fixture in PERSONAS.items()
    }


def _post_url(url_name: str, bko: dict, treasurer) -> str:
    target = bko["member"]
    if url_name == "grant_waiver":
        charge(bko["member"].branch, "2026-10")  # something owed to waive
    if url_name in ("record_payment", "grant_waiver", "set_rate"):
        return reverse(f"dues:{url_name}", args=[target.public_id])
    if url_name == "confirm":
        entry = pay(treasurer, target, THRESHOLD + 1, "R200")
        return reverse("dues:confirm", args=[entry.public_id])
    return reverse(f"dues:{url_name}")


@pytest.mark.parametrize(("url_name", "expected"), access.rows(POST_MATRIX, PERSONAS))
def test_post_access(bko, treasurer, everyone, url_name, expected):
    url = _post_url(url_name, bko, treasurer)
    data = {**POST_DATA[url_name], "paid_on": money.local_today("Africa/Bamako").isoformat()}

    def ledger_state() -> tuple:
        return (
            LedgerEntry.objects.count(),
            PaymentConfirmation.objects.count(),
            DuesAccount.objects.filter(rate=Rate.SOLIDARITY).count(),
        )

    mismatches = access.check_row(
        everyone, expected, url=url, method="post", data=data, unchanged=ledger_state
    )
    assert not mismatches, mismatches


@pytest.mark.parametrize(
    ("url_name", "persona", "posts"),
    [(name, persona, False) for name, persona in access.first_allowed(MATRIX, PERSONAS)]
    + [(name, persona, True) for name, persona in access.first_allowed(POST_MATRIX, PERSONAS)],
)
def test_bad_input_on_any_dues_screen_gets_an_answer_not_a_crash(
    client, login, request, bko, treasurer, url_name, persona, posts
):
    fixture = PERSONAS[persona]
    if fixture is not None:
        login(client, request.getfixturevalue(fixture))
    if posts:
        url = _post_url(url_name, bko, treasurer)
        fields = {*POST_DATA[url_name], "paid_on", "method", "provider", "reference"}
    else:
        url, fields = _url(url_name, bko), set()
    access.send_garbage(client, url, fields)


OWN_ACCOUNT = """
action          treasurer  secretary  national
record_payment  own        403        403
grant_waiver    own        403        403
set_rate        own        403        403
reverse         own        403        403
confirm         own        own        own
"""
OWN_POSTS = {
    "record_payment": {"amount": "1000", "method": "cash", "receipt_number": "X1"},
    "grant_waiver": {"amount": "1000", "reason": "mine"},
    "set_rate": {"rate": Rate.SOLIDARITY},
    "reverse": {"reason": "not mine"},
    "confirm": {},
}
OWN_MESSAGE = "This concerns your own record: another officer must do it."


def _own_cells() -> list[tuple[str, str, str]]:
    header, *rows = (line.split() for line in OWN_ACCOUNT.strip().splitlines())
    return [
        (row[0], col, cell) for row in rows for col, cell in zip(header[1:], row[1:], strict=True)
    ]


@pytest.mark.parametrize(("action", "persona", "expected"), _own_cells())
def test_no_officer_acts_on_her_own_dues(
    client, login, request, bamako, bko_plan, action, persona, expected
):
    officer = request.getfixturevalue(PERSONAS[persona])
    officer.joined_on = JOINED
    officer.save(update_fields=["joined_on"])
    charge(bamako, "2026-11")
    if action in ("reverse", "confirm"):
        cashier = _officer(bamako, Role.TREASURER)  # someone else took her cash
        entry = pay(cashier, officer, THRESHOLD + 1, "R1")
        if action == "reverse":
            second = _officer(bamako, Role.SECRETARY)
            from dues.services import ledger

            ledger.confirm_payment(actor=second.user, entry=entry)
        url = reverse(f"dues:{action}", args=[entry.public_id])
    else:
        url = reverse(f"dues:{action}", args=[officer.public_id])
    before = (LedgerEntry.objects.count(), PaymentConfirmation.objects.count())
    data = {**OWN_POSTS[action], "paid_on": money.local_today("Africa/Bamako").isoformat()}
    login(client, officer)
    response = client.post(url, data, follow=True)
    if expected == "own":
        assert response.status_code in (200, 400)
        assert OWN_MESSAGE in response.content.decode()
    else:
        assert response.status_code == int(expected)
    assert (LedgerEntry.objects.count(), PaymentConfirmation.objects.count()) == before
    assert not DuesAccount.objects.filter(rate=Rate.SOLIDARITY).exists()


def test_officers_pass_the_second_factor_first(client, bko, treasurer):
    client.force_login(treasurer.user)  # password only
    response = client.get(reverse("dues:dashboard"))
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == reverse("union:two_factor")
    receipt = client.get(reverse("dues:receipt", args=[bko["entry"].public_id]))
    assert urlsplit(receipt["Location"]).path == reverse("union:two_factor")


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("secretary", 403), ("crisis_responder", 403), ("other_secretary", 403), ("member", 403)],
)
def test_only_those_who_may_record_can_post_a_payment(
    client, login, request, bko, persona, expected
):
    login(client, request.getfixturevalue(persona))
    url = reverse("dues:record_payment", args=[bko["member"].public_id])
    response = client.post(
        url, {"amount": "1000", "method": "cash", "receipt_number": "X1", "paid_on": "2026-11-20"}
    )
    assert response.status_code == expected
    assert not LedgerEntry.objects.filter(receipt_number="X1").exists()


def test_the_treasurer_finds_a_member_and_records_cash(client, login, treasurer, bko):
    login(client, treasurer)
    found = client.get(reverse("dues:find_member"), {"q": "Fanta Tar"})
    assert "Fanta Target" in found.content.decode()
    today = money.local_today("Africa/Bamako").isoformat()
    response = client.post(
        reverse("dues:record_payment", args=[bko["member"].public_id]),
        {"amount": "2000", "method": "cash", "receipt_number": "R101", "paid_on": today},
    )
    entry = LedgerEntry.objects.get(receipt_number="R101")
    assert response["Location"] == reverse("dues:receipt", args=[entry.public_id])
    assert entry.amount == -2000
    receipt = client.get(response["Location"]).content.decode()
    assert "R101" in receipt and "2,000" in receipt
    assert AuditEvent.objects.filter(action=DuesAction.VIEW).count() == 0
    client.get(reverse("dues:member_account", args=[bko["member"].public_id]))
    assert AuditEvent.objects.filter(action=DuesAction.VIEW).count() == 1


def test_bad_input_on_the_payment_form_is_explained(client, login, treasurer, bko):
    login(client, treasurer)
    url = reverse("dues:record_payment", args=[bko["member"].public_id])
    today = money.local_today("Africa/Bamako").isoformat()
    for data, message in [
        ({"amount": "0", "receipt_number": "R1"}, "greater than zero"),
        ({"amount": "-5", "receipt_number": "R1"}, "greater than zero"),
        ({"amount": "10.5", "receipt_number": "R1"}, "decimal"),
        ({"amount": "2000", "receipt_number": "R100"}, "already used"),
    ]:
        response = client.post(url, {"method": "cash", "paid_on": today, **data})
        assert response.status_code == 400
        assert message in response.content.decode()
    assert LedgerEntry.objects.filter(kind=EntryKind.PAYMENT).count() == 1


def test_a_second_officer_confirms_from_the_dashboard(client, login, treasurer, secretary, bko):
    entry = pay(treasurer, bko["member"], THRESHOLD + 500, "R200")
    login(client, treasurer)
    own = client.get(reverse("dues:dashboard")).content.decode()
    assert reverse("dues:confirm", args=[entry.public_id]) not in own  # not for their own
    assert client.post(reverse("dues:confirm", args=[entry.public_id])).status_code == 302
    assert not PaymentConfirmation.objects.exists()

    login(client, secretary)
    page = client.get(reverse("dues:dashboard")).content.decode()
    assert reverse("dues:confirm", args=[entry.public_id]) in page
    client.post(reverse("dues:confirm", args=[entry.public_id]))
    assert PaymentConfirmation.objects.get().confirmed_by == secretary.user


def test_the_member_sees_their_account_in_their_language(
    client, login, french, bamako, bko_plan, treasurer
):
    member = MemberFactory(
        branch=bamako, joined_on=JOINED, with_login=True, preferred_language="fr"
    )
    charge(bamako, "2026-10", "2026-11")
    entry = pay(treasurer, member, 1500, "R7")
    client.cookies.pop("language", None)  # the member's own language, not a chosen one
    login(client, member)
    page = client.get(reverse("dues:my")).content.decode()
    assert "Mes cotisations" in page
    assert "500\u00a0XOF" in page  # 2 000 owed, 1 500 paid
    receipt = client.get(reverse("dues:receipt", args=[entry.public_id])).content.decode()
    assert "Reçu" in receipt and "1\u00a0500\u00a0XOF" in receipt
    statement = client.get(reverse("dues:statement")).content.decode()
    assert "octobre 2026" in statement


def test_an_officer_prints_the_receipt_in_the_members_language(
    client, login, treasurer, bamako, bko_plan, french
):
    member = MemberFactory(branch=bamako, joined_on=JOINED, preferred_language="fr")
    entry = pay(treasurer, member, 1000, "R8")
    client.cookies["language"] = "en"  # the officer reads English
    login(client, treasurer)
    receipt = client.get(reverse("dues:receipt", args=[entry.public_id])).content.decode()
    assert "Reçu" in receipt


def test_the_ledger_exports_to_csv_and_xlsx_with_numbers_not_names(client, login, treasurer, bko):
    login(client, treasurer)
    csv = client.get(reverse("dues:export"), {"format": "csv"})
    assert csv["Content-Type"].startswith("text/csv")
    text = csv.content.decode("utf-8-sig")
    assert bko["member"].number in text
    assert "Fanta Target" not in text
    assert text.splitlines()[0].startswith("entry,booked_on,recorded_at,branch,member_number")
    xlsx = client.get(reverse("dues:export"), {"format": "xlsx"})
    assert xlsx.content[:2] == b"PK"
    exports = AuditEvent.objects.filter(action=DuesAction.EXPORT)
    assert exports.count() == 2
    assert exports.first().rows == LedgerEntry.objects.count()


def test_the_plan_screen_saves_amounts_in_minor_units(client, login, treasurer, johannesburg, bko):
    from tests.conftest import _officer
    from union.models import Role

    jhb_treasurer = _officer(johannesburg, Role.TREASURER)
    login(client, jhb_treasurer)
    response = client.post(
        reverse("dues:plan", args=["JHB"]),
        {
            "monthly_amount": "50.00",
            "solidarity_amount": "25",
            "grace_months": "3",
            "charge_joining_month": "on",
            "confirm_threshold": "500",
        },
    )
    assert response.status_code == 302
    plan = johannesburg.dues_plan
    assert (plan.monthly_amount, plan.solidarity_amount, plan.confirm_threshold) == (
        5000,
        2500,
        50000,
    )
    assert plan.currency == "ZAR"


def test_the_cash_book_is_closed_from_its_screen(client, login, treasurer, bko, bamako):
    login(client, treasurer)
    day = bko["entry"].booked_on.isoformat()
    page = client.get(reverse("dues:cashbook"), {"branch": "BKO", "day": day}).content.decode()
    assert "R100" in page
    client.post(reverse("dues:cashbook_close"), {"branch": "BKO", "day": day})
    page = client.get(reverse("dues:cashbook"), {"branch": "BKO", "day": day}).content.decode()
    assert "Closed by" in page


def test_lists_filter_and_stay_in_the_officers_branches(
    client, login, other_secretary, bko, segou, seg_plan
):
    seg_member = MemberFactory(branch=segou, joined_on=JOINED)
    charge(segou, "2026-11")
    login(client, other_secretary)
    ledger = client.get(reverse("dues:ledger")).content.decode()
    assert seg_member.number in ledger
    assert bko["member"].number not in ledger
    arrears = client.get(reverse("dues:arrears"), {"branch": "BKO"}).content.decode()
    assert bko["member"].number not in arrears  # BKO is not theirs: their own branch is shown
    waiting = client.get(reverse("dues:ledger"), {"waiting": "true"})
    assert waiting.status_code == 200


def test_office_home_and_profile_link_to_dues(client, login, treasurer, member, bko):
    login(client, treasurer)
    assert reverse("dues:dashboard") in client.get(reverse("union:office")).content.decode()
    login(client, member)
    assert reverse("dues:my") in client.get(reverse("union:profile")).content.decode()
