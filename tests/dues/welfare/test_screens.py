"""Welfare screens: who may open which, and what members and officers see and do there.

The matrix is the access policy written out (rows: the screens dues:welfare_<row>);
every cell is a test about Awa's (BKO) pending application, its document and the BKO
emergency fund (personas in tests/conftest.py and tests/dues/welfare/conftest.py):

    login  redirected to the sign-in page (not signed in)
    403    signed in, but no role gives this right
    404    the right exists, but not for this object (another branch, someone else's)
    ok     allowed: 200, or a redirect that is not to sign-in or the second factor
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from dues import money
from dues.welfare.audit import WelfareAction
from dues.welfare.models import (
    ApplicationStatus,
    FundEntry,
    FundTransfer,
    Payout,
    Purpose,
    WelfareApplication,
)
from dues.welfare.services import applications, funds, payouts
from tests import access
from tests.access import assert_access, cells
from tests.dues.conftest import JOINED, pay
from tests.dues.welfare.conftest import approve, make_fund, submit
from tests.factories import MemberFactory
from union.models import AuditEvent

pytestmark = pytest.mark.django_db

MATRIX = """
url          anon   member  sec  treas  crisis  cttee  coord  other  ended  natl
my           login  ok      ok   ok     ok      ok     ok     ok     ok     ok
apply        login  ok      ok   ok     ok      ok     ok     ok     ok     ok
funds        login  ok      ok   ok     ok      ok     ok     ok     ok     ok
mine         login  404     404  404    404     404    404    404    404    404
office       login  403     403  ok     403     ok     ok     403    403    ok
queue        login  403     403  403    403     ok     403    403    403    403
apply_for    login  403     ok   403    ok      ok     ok     ok     403    ok
application  login  403     404  ok     404     ok     ok     404    403    ok
pay          login  403     403  ok     403     403    403    403    403    403
document     login  403     403  403    403     ok     403    403    403    403
unpaid       login  403     403  ok     403     403    403    403    403    403
fund         login  403     403  ok     403     ok     ok     403    403    ok
fund_new     login  403     403  ok     403     403    403    403    403    ok
policy       login  403     403  ok     403     403    403    403    403    ok
export       login  403     403  ok     403     403    403    403    403    ok
"""

ADDRESSES = [f"dues:welfare_{name}" for name in access.row_names(MATRIX)]

PERSONAS = {
    "anon": None,
    "member": "member",
    "sec": "secretary",
    "treas": "treasurer",
    "crisis": "crisis_responder",
    "cttee": "committee_c",
    "coord": "crisis_coordinator",
    "other": "other_secretary",
    "ended": "ended_secretary",
    "natl": "national_coordinator",
}

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def bko(awa, funded, segou):
    application = submit(awa, uploads=[applications.Upload(PDF)])
    return {"application": application, "document": application.documents.get(), "fund": funded}


def _url(short: str, objects: dict) -> str:
    name = f"welfare_{short}"
    if name in ("welfare_mine", "welfare_application", "welfare_pay"):
        return reverse(f"dues:{name}", args=[objects["application"].public_id])
    if name == "welfare_document":
        return reverse("dues:welfare_document", args=[objects["document"].public_id])
    if name == "welfare_fund":
        return reverse("dues:welfare_fund", args=[objects["fund"].public_id])
    if name == "welfare_policy":
        return reverse("dues:welfare_policy", args=["BKO"])
    return reverse(f"dues:{name}")


@pytest.mark.parametrize(("url_name", "persona", "expected"), cells(MATRIX, PERSONAS))
def test_access(client, login, request, bko, url_name, persona, expected):
    fixture = PERSONAS[persona]
    if fixture is not None:
        login(client, request.getfixturevalue(fixture))
    response = client.get(_url(url_name, bko), follow=expected == "404")
    assert_access(response, expected)
    if expected != "ok":
        assert "Canary-Zebra" not in response.content.decode()


def test_officers_pass_the_second_factor_first(client, bko, committee_c):
    client.force_login(committee_c.user)  # password only
    response = client.get(reverse("dues:welfare_application", args=[bko["application"].public_id]))
    assert urlsplit(response["Location"]).path == reverse("union:two_factor")


# The screens that only take a POST: who may post (an error in the form is still "allowed")
# and who is refused before anything is read.
POSTS = [
    ("welfare_approve", "application", "committee_c", "treasurer"),
    ("welfare_reject", "application", "committee_c", "crisis_coordinator"),
    ("welfare_ask", "application", "committee_c", "secretary"),
    ("welfare_conflict", "application", "committee_c", "treasurer"),
    ("welfare_emergency", "application", "crisis_coordinator", "committee_c"),
    ("welfare_review", "application", "committee_c", "crisis_responder"),
    ("welfare_rule", "fund", "treasurer", "committee_c"),
    ("welfare_gift", "fund", "treasurer", "secretary"),
    ("welfare_transfer", "fund", "treasurer", "crisis_coordinator"),
]


@pytest.mark.parametrize(("name", "target", "allowed", "refused"), POSTS)
def test_post_only_screens_refuse_those_without_the_right(
    client, login, request, bko, name, target, allowed, refused
):
    url = reverse(f"dues:{name}", args=[bko[target].public_id])
    login(client, request.getfixturevalue(refused))
    assert client.post(url, {}).status_code == 403
    assert client.get(url).status_code in (403, 405)
    login(client, request.getfixturevalue(allowed))
    assert client.post(url, {}).status_code in (302, 400)
    assert not bko["application"].decisions.exists()


# The screens that only take a POST, posted empty: those allowed get the form's errors
# (400) or a redirect with a message (ok), and nothing changes for anyone.
POST_MATRIX = """
url               anon   member  sec  treas  crisis  cttee  coord  other  ended  natl
approve           login  403     403  403    403     400    403    403    403    403
reject            login  403     403  403    403     400    403    403    403    403
ask               login  403     403  403    403     400    403    403    403    403
conflict          login  403     403  403    403     400    403    403    403    403
emergency         login  403     403  403    403     403    400    403    403    403
review            login  403     403  403    403     400    403    403    403    403
rule              login  403     403  400    403     403    403    403    403    400
gift              login  403     403  400    403     403    403    403    403    400
transfer          login  403     403  400    403     403    403    403    403    400
reverse_payout    login  403     403  ok     403     403    403    403    403    403
transfer_decide   login  403     403  403    403     ok     403    403    403    403
"""
ADDRESSES += [f"dues:welfare_{name}" for name in access.row_names(POST_MATRIX)]


@pytest.fixture
def everyone(request) -> dict:
    return {
        persona: None if fixture is None else request.getfixturevalue(fixture)
        for persona, fixture in PERSONAS.items()
    }


@pytest.mark.parametrize(("short", "expected"), access.rows(POST_MATRIX, PERSONAS))
def test_post_access(bko, bamako, treasurer, committee_a, committee_b, everyone, short, expected):
    if short == "reverse_payout":
        other = MemberFactory(branch=bamako, joined_on=JOINED, with_login=True)
        application = approve(submit(other), committee_a, committee_b)
        payout = payouts.pay_application(
            actor=treasurer.user,
            application=application,
            method="cash",
            paid_on=money.local_today("Africa/Bamako"),
        )
        target = payout.public_id
    elif short == "transfer_decide":
        medical = make_fund(bamako, Purpose.MEDICAL, 0)
        transfer = funds.request_transfer(
            actor=treasurer.user, from_fund=bko["fund"], to_fund=medical, amount=100, reason="x"
        )
        target = transfer.public_id
    elif short in ("rule", "gift", "transfer"):
        target = bko["fund"].public_id
    else:
        target = bko["application"].public_id

    def welfare_state() -> tuple:
        return (
            bko["application"].decisions.count(),
            WelfareApplication.objects.filter(status=ApplicationStatus.PENDING).count(),
            FundEntry.objects.count(),
            Payout.objects.filter(reversed_by__isnull=False).count(),
            sorted(FundTransfer.objects.values_list("status", flat=True)),
        )

    url = reverse(f"dues:welfare_{short}", args=[target])
    mismatches = access.check_row(
        everyone, expected, url=url, method="post", unchanged=welfare_state
    )
    assert not mismatches, mismatches


# --- the journey through the screens ------------------------------------------------------


def test_a_member_applies_in_french_two_approve_the_treasurer_pays_once_the_member_sees_it(
    client, login, french, awa, funded, committee_a, committee_b, treasurer
):
    awa.preferred_language = "fr"
    awa.save(update_fields=["preferred_language"])
    login(client, awa)
    form = client.get(reverse("dues:welfare_apply")).content.decode()
    assert "Demander de l" in form  # the member's language
    response = client.post(
        reverse("dues:welfare_apply"),
        {
            "purpose": "emergency",
            "amount": "12 000",
            "note": "Expulsée hier.",
            "payee_kind": "member",
            "payout_method": "cash",
        },
    )
    application = WelfareApplication.objects.get()
    assert response["Location"] == reverse("dues:welfare_mine", args=[application.public_id])
    assert application.amount_requested == 12_000

    for decider in (committee_a, committee_b):
        login(client, decider)
        page = client.get(reverse("dues:welfare_application", args=[application.public_id]))
        assert "Expulsée hier." in page.content.decode()
        client.post(
            reverse("dues:welfare_approve", args=[application.public_id]),
            {"amount": "10 000", "reason": "Dans les règles", "version": str(application.version)},
        )
    application.refresh_from_db()
    assert (application.status, application.amount_granted) == ("approved", 10_000)

    login(client, treasurer)
    unpaid = client.get(reverse("dues:welfare_unpaid")).content.decode()
    assert reverse("dues:welfare_pay", args=[application.public_id]) in unpaid
    today = money.local_today("Africa/Bamako").isoformat()
    data = {"method": "cash", "paid_on": today, "fee": "0"}
    url = reverse("dues:welfare_pay", args=[application.public_id])
    client.post(url, data)
    client.post(url, data)  # the form posted twice
    assert Payout.objects.count() == 1
    assert FundEntry.objects.filter(kind="payout").count() == 1

    login(client, awa)
    client.cookies.pop("language", None)
    mine = client.get(reverse("dues:welfare_mine", args=[application.public_id]))
    assert "Payé" in mine.content.decode()


def test_the_committee_sees_its_queue_and_the_office_home_counts(
    client, login, bko, committee_c, treasurer, approved
):
    login(client, committee_c)
    home = client.get(reverse("union:office")).content.decode()
    assert reverse("dues:welfare_queue") in home
    assert "1 application to decide" in home  # the approved one waits for the treasurer
    queue = client.get(reverse("dues:welfare_queue")).content.decode()
    assert "Awa Canary-Zebra" in queue
    login(client, treasurer)
    home = client.get(reverse("union:office")).content.decode()
    assert "1 approved application to pay" in home


def test_a_document_is_served_to_the_committee_with_an_audit_row(client, login, bko, committee_c):
    login(client, committee_c)
    response = client.get(reverse("dues:welfare_document", args=[bko["document"].public_id]))
    assert response.status_code == 200
    assert response.content == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert AuditEvent.objects.filter(action=WelfareAction.DOCUMENT).count() == 1


def test_the_pay_page_shows_the_destination_to_the_treasurer_and_audits_it(
    client, login, awa, funded, committee_a, committee_b, treasurer
):
    application = approve(
        submit(
            awa,
            payee=applications.Payee(
                kind="hospital",
                name="CHU Gabriel Touré",
                method="mobile_money",
                provider="Orange Money",
                destination="+22376000001",
            ),
        ),
        committee_a,
        committee_b,
    )
    login(client, committee_a)
    detail = client.get(reverse("dues:welfare_application", args=[application.public_id]))
    assert "+22376000001" not in detail.content.decode()  # the committee never sees it
    login(client, treasurer)
    page = client.get(reverse("dues:welfare_pay", args=[application.public_id])).content.decode()
    assert "+22376000001" in page
    assert AuditEvent.objects.filter(action=WelfareAction.PAYEE).count() == 1


def test_bad_input_on_the_apply_form_is_explained_and_changes_nothing(client, login, awa, funded):
    login(client, awa)
    for data, message in [
        ({"amount": "0"}, "greater than zero"),
        ({"amount": "60000"}, "at most"),
        ({"amount": "100", "payout_method": "mobile_money", "payout_destination": "1"}, "mobile"),
    ]:
        response = client.post(
            reverse("dues:welfare_apply"),
            {"purpose": "emergency", "payee_kind": "member", "payout_method": "cash", **data},
        )
        assert response.status_code == 400
        assert message in response.content.decode()
    bad_file = client.post(
        reverse("dues:welfare_apply"),
        {
            "purpose": "emergency",
            "amount": "100",
            "payee_kind": "member",
            "payout_method": "cash",
            "document": _upload("scan.pdf", b"<html>not a pdf</html>"),
        },
    )
    assert bad_file.status_code == 400
    assert "PDF or a photo" in bad_file.content.decode()
    assert not WelfareApplication.objects.exists()


def _upload(name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/pdf")


def test_the_member_answers_a_question_and_the_application_returns_to_the_committee(
    client, login, awa, funded, committee_a
):
    application = submit(awa)
    applications.ask_for_information(
        actor=committee_a.user, application=application, question="Which hospital?"
    )
    login(client, awa)
    page = client.get(reverse("dues:welfare_mine", args=[application.public_id]))
    assert "Which hospital?" in page.content.decode()
    client.post(
        reverse("dues:welfare_mine", args=[application.public_id]),
        {"note": "Hôpital du Point G", "document": _upload("note.pdf", PDF)},
    )
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING
    assert "Point G" in application.note
    assert application.documents.count() == 1


def test_an_officer_applies_for_a_member_by_number(client, login, crisis_responder, awa, funded):
    login(client, crisis_responder)
    response = client.post(
        reverse("dues:welfare_apply_for"),
        {
            "member_number": awa.number,
            "purpose": "emergency",
            "amount": "5000",
            "payee_kind": "court",
            "payee_name": "Tribunal de la Commune IV",
            "payout_method": "cash",
        },
    )
    application = WelfareApplication.objects.get()
    assert response["Location"] == reverse("dues:welfare_application", args=[application.public_id])
    assert application.submitted_by == crisis_responder.user
    # The crisis responder follows what they submitted, but reads no notes or documents.
    page = client.get(response["Location"])
    assert page.status_code == 200


def test_an_officer_of_another_branch_cannot_apply_for_a_bko_member(
    client, login, other_secretary, awa, funded
):
    login(client, other_secretary)
    response = client.post(
        reverse("dues:welfare_apply_for"),
        {"member_number": awa.number, "purpose": "emergency", "amount": "5000"}
        | {"payee_kind": "member", "payout_method": "cash"},
    )
    assert response.status_code == 400
    assert not WelfareApplication.objects.exists()


# --- transparency and exports: no names ------------------------------------------------------


def test_the_funds_page_and_the_exports_hold_no_member_identifier(
    client, login, awa, bamako, funded, committee_a, committee_b, treasurer, national_coordinator
):
    for i in range(3):
        payer = MemberFactory(branch=bamako, working_name=f"Payer Canary-Zebra {i}")
        pay(treasurer, payer, 1000, f"R{i}")
    application = approve(submit(awa, 7777), committee_a, committee_b)
    from dues.welfare.services import payouts

    payouts.pay_application(
        actor=treasurer.user,
        application=application,
        method="mobile_money",
        provider="Orange Money",
        reference="OM12345",
        paid_on=money.local_today("Africa/Bamako"),
    )
    login(client, awa)
    page = client.get(reverse("dues:welfare_funds")).content.decode()
    assert "Canary-Zebra" not in page
    assert awa.number not in page
    assert "7,777" not in page and "7\u202f777" not in page  # one payout: its month is hidden
    login(client, treasurer)
    for fmt in ("csv", "xlsx"):
        export = client.get(reverse("dues:welfare_export"), {"format": fmt})
        assert export.status_code == 200
        assert b"Canary-Zebra" not in export.content
        assert awa.number.encode() not in export.content
    csv = client.get(reverse("dues:welfare_export"), {"format": "csv"}).content.decode("utf-8-sig")
    assert csv.splitlines()[0].startswith("row,booked_on,recorded_at,branch,fund,kind")
    assert AuditEvent.objects.filter(action=WelfareAction.EXPORT).count() == 3


def test_formulas_in_exported_text_are_neutralised(client, login, treasurer, funded):
    from dues.welfare.services import funds

    funds.record_gift(
        actor=treasurer.user,
        fund=funded,
        amount=500,
        currency="XOF",
        source='=HYPERLINK("http://evil.example","click")',
        received_on=money.local_today("Africa/Bamako"),
    )
    login(client, treasurer)
    csv = client.get(reverse("dues:welfare_export"), {"format": "csv"}).content.decode("utf-8-sig")
    assert "'=HYPERLINK" in csv
    assert ',"=HYPERLINK' not in csv and ",=HYPERLINK" not in csv


def test_the_treasurer_sets_rules_records_a_gift_and_asks_for_a_transfer(
    client, login, treasurer, bamako, funded
):
    from dues.welfare.models import FundRule, FundTransfer, Purpose
    from tests.dues.welfare.conftest import make_fund

    medical = make_fund(bamako, Purpose.MEDICAL, 0)
    login(client, treasurer)
    today = money.local_today("Africa/Bamako").isoformat()
    url = reverse("dues:welfare_fund", args=[funded.public_id])
    page = client.get(url)
    assert "20 %" in page.content.decode()
    client.post(
        reverse("dues:welfare_rule", args=[funded.public_id]),
        {
            "effective_from": today,
            "share_percent": "12.5",
            "max_payout": "30 000",
            "max_per_member_year": "",
            "waiting_months": "3",
            "good_standing_required": "on",
            "fee_payer": "payee",
        },
    )
    rule = FundRule.objects.filter(fund=funded).latest("effective_from")
    assert (rule.share_bp, rule.max_payout, rule.max_per_member_year) == (1250, 30_000, None)
    assert (rule.waiting_months, rule.fee_payer) == (3, "payee")
    client.post(
        reverse("dues:welfare_gift", args=[funded.public_id]),
        {"kind": "grant", "amount": "5000", "source": "Fondation X", "received_on": today},
    )
    assert FundEntry.objects.filter(fund=funded, kind="grant").count() == 2
    response = client.post(
        reverse("dues:welfare_transfer", args=[funded.public_id]),
        {"to_fund": str(medical.public_id), "amount": "1000", "reason": "medical is empty"},
    )
    assert response.status_code == 302
    assert FundTransfer.objects.get().to_fund == medical
    bad = client.post(
        reverse("dues:welfare_rule", args=[funded.public_id]),
        {"effective_from": "2020-01-01", "share_percent": "10", "waiting_months": "0"}
        | {"fee_payer": "fund"},
    )
    assert bad.status_code == 400
    assert "never before" in bad.content.decode()
