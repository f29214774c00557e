"""Who may open which office screen, and the second factor that guards them all.

The matrix below is the access policy written out, one matrix for the core, crisis and
welfare screens. Every cell is a test: the persona (see tests/conftest.py; cttee is a BKO
welfare committee member, coord the BKO crisis coordinator) requests the screen about a
Bamako (BKO) member, applicant or role, or about Awa's (BKO) welfare: her pending
application and its document, her paid loan and its payout, the emergency fund, a
transfer waiting for approval, an unmatched reconciliation line. A welfare screen
without a row fails test_every_welfare_screen_has_a_row.

    login  redirected to the sign-in page (not signed in)
    403    signed in, but no role gives this right
    404    the right exists, but only for another branch: BKO's objects do not exist for them
    ok     allowed: 200, or a redirect that is not to sign-in or the second factor
    400    allowed, but the empty form posted is refused, and nothing changes
"""

from __future__ import annotations

from datetime import time, timedelta
from urllib.parse import urlsplit

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from crisis.models import (
    Callout,
    CalloutStatus,
    LegalCase,
    RotaSlot,
    SafetyAlert,
    SafetyAlertText,
    ShareRecord,
)
from dues.services import plans
from dues.welfare import urls as welfare_urls
from dues.welfare.models import (
    ApplicationStatus,
    Fund,
    FundEntry,
    FundRule,
    FundTransfer,
    LoanRepayment,
    Payout,
    PayoutStatus,
    Purpose,
    TransferStatus,
    WelfareApplication,
)
from dues.welfare.services import applications, funds, loans, payouts, reconciliation
from dues.welfare.statements import ReconciliationItem, StatementLine
from tests import access
from tests.conftest import _officer
from tests.crisis.conftest import crisis_officer
from tests.factories import PASSWORD, MemberFactory
from union.models import ExportJob, ImportJob, Member, MemberStatus, Role, RoleAssignment

MATRIX = """
url                           anon   member sec    treas  crisis other  ended  natl   cttee  coord
office                        login  403    ok     ok     ok     ok     403    ok     ok     ok
members                       login  403    ok     ok     403    ok     403    ok     403    403
member_detail                 login  403    ok     ok     403    404    403    ok     403    403
member_edit                   login  403    ok     403    403    404    403    ok     403    403
member_status                 login  403    ok     403    403    404    403    ok     403    403
member_code                   login  403    ok     403    403    404    403    ok     403    403
member_erase                  login  403    ok     403    403    404    403    ok     403    403
applicants                    login  403    ok     403    403    ok     403    ok     403    403
applicant                     login  403    ok     403    403    404    403    ok     403    403
register_member               login  403    ok     403    ok     ok     403    403    403    ok
roles                         login  403    ok     403    403    ok     403    ok     403    403
moves                         login  403    ok     ok     403    ok     403    ok     403    403
move_in                       login  403    ok     403    403    ok     403    ok     403    403
branch_contact                login  403    ok     403    403    404    403    ok     403    403
role_end                      login  403    ok     403    403    404    403    ok     403    403
import_members                login  403    ok     403    403    ok     403    ok     403    403
export_members                login  403    ok     403    403    ok     403    ok     403    403
dues:welfare_my               login  ok     ok     ok     ok     ok     ok     ok     ok     ok
dues:welfare_apply            login  ok     ok     ok     ok     ok     ok     ok     ok     ok
dues:welfare_funds            login  ok     ok     ok     ok     ok     ok     ok     ok     ok
dues:welfare_mine             login  404    404    404    404    404    404    404    404    404
dues:welfare_office           login  403    403    ok     403    403    403    ok     ok     ok
dues:welfare_queue            login  403    403    403    403    403    403    403    ok     403
dues:welfare_apply_for        login  403    ok     403    ok     ok     403    ok     ok     ok
dues:welfare_application      login  403    404    ok     404    404    403    ok     ok     ok
dues:welfare_approve          login  403    403    403    403    403    403    403    400    403
dues:welfare_reject           login  403    403    403    403    403    403    403    400    403
dues:welfare_ask              login  403    403    403    403    403    403    403    400    403
dues:welfare_conflict         login  403    403    403    403    403    403    403    400    403
dues:welfare_emergency        login  403    403    403    403    403    403    403    403    400
dues:welfare_review           login  403    403    403    403    403    403    403    400    403
dues:welfare_pay              login  403    403    ok     403    403    403    403    403    403
dues:welfare_document         login  403    403    403    403    403    403    403    ok     403
dues:welfare_unpaid           login  403    403    ok     403    403    403    403    403    403
dues:welfare_loans            login  403    403    ok     403    403    403    403    403    403
dues:welfare_repay            login  403    403    ok     403    403    403    403    403    403
dues:welfare_reconciliation   login  403    403    ok     403    403    403    ok     403    403
dues:welfare_statement        login  403    403    400    403    403    403    403    403    403
dues:welfare_reconcile        login  403    403    400    403    403    403    403    403    403
dues:welfare_explain          login  403    403    ok     403    403    403    ok     403    403
dues:welfare_reverse_payout   login  403    403    ok     403    403    403    403    403    403
dues:welfare_reverse_repayment login 403   403    ok     403    403    403    403    403    403
dues:welfare_fund_new         login  403    403    ok     403    403    403    ok     403    403
dues:welfare_fund             login  403    403    ok     403    403    403    ok     ok     ok
dues:welfare_rule             login  403    403    400    403    403    403    400    403    403
dues:welfare_gift             login  403    403    400    403    403    403    400    403    403
dues:welfare_transfer         login  403    403    400    403    403    403    400    403    403
dues:welfare_transfer_decide  login  403    403    403    403    403    403    403    ok     403
dues:welfare_policy           login  403    403    ok     403    403    403    ok     403    403
dues:welfare_export           login  403    403    ok     403    403    403    ok     403    403
"""

# The crisis screens (crisis:<screen>), with the crisis team's personas beside the others.
CRISIS_MATRIX = """
screen            anon  membr secr treas resp oseg ended natl coord ncris scris
report            login ok    ok   ok    ok   ok   ok    ok   ok    ok    ok
my_reports        login ok    ok   ok    ok   ok   ok    ok   ok    ok    ok
dashboard         login 403   403  403   ok   403  403   403  ok    ok    ok
log               login 403   403  403   ok   403  403   403  ok    ok    ok
detail            login 403   403  403   ok   403  403   403  ok    ok    404
answer            login 403   403  403   ok   403  403   403  ok    ok    404
note              login 403   403  403   ok   403  403   403  ok    ok    404
close             login 403   403  403   403  403  403   403  ok    ok    404
merge             login 403   403  403   403  403  403   403  ok    ok    404
unmerge           login 403   403  403   403  403  403   403  ok    ok    404
case_open         login 403   403  403   ok   403  403   403  ok    ok    404
share             login 403   403  403   403  403  403   403  ok    ok    404
share_summary     login 403   403  403   403  403  403   403  ok    ok    404
cases             login 403   403  403   ok   403  403   403  ok    ok    ok
case_detail       login 403   403  403   ok   403  403   403  ok    ok    404
rota              login 403   403  403   ok   403  403   403  ok    ok    ok
slot_add          login 403   403  403   403  403  403   403  ok    ok    ok
slot_swap         login 403   403  403   403  403  403   403  ok    ok    404
slot_end          login 403   403  403   403  403  403   403  ok    ok    404
reachable         login 403   403  403   403  403  403   403  ok    ok    404
settings          login 403   403  403   403  403  403   403  ok    ok    ok
alerts            login ok    ok   ok    ok   ok   ok    ok   ok    ok    ok
office_alerts     login 403   403  403   ok   403  403   403  ok    ok    ok
alert_new         login 403   403  403   ok   403  403   403  ok    ok    ok
alert_detail      login 403   403  403   ok   403  403   403  ok    ok    404
alert_publish     login 403   403  403   403  403  403   403  ok    ok    404
alert_withdraw    login 403   403  403   403  403  403   403  ok    ok    404
figures           login 403   403  403   403  403  403   ok   ok    ok    ok
figures_export    login 403   403  403   403  403  403   ok   ok    ok    ok
sms_at            403   403   403  403   403  403  403   403  403   403   403
sms_at_delivery   403   403   403  403   403  403  403   403  403   403   403
sms_twilio        403   403   403  403   403  403  403   403  403   403   403
sms_twilio_status 403   403   403  403   403  403  403   403  403   403   403
"""
# Crisis screens are the branch's crisis team's and the national crisis coordinator's: a
# responder (resp) works call-outs, a branch crisis coordinator (coord) also runs the
# rota, closes, merges, shares and publishes alerts; the national crisis coordinator
# (ncris) may do the same in every branch; Ségou's crisis coordinator (scris) has the
# screens but BKO's objects do not exist for her. The SMS webhooks answer 403 to
# everyone without the provider's secret or signature.

PERSONAS = {
    "anon": None,
    "member": "member",
    "sec": "secretary",
    "treas": "treasurer",
    "crisis": "crisis_responder",
    "other": "other_secretary",
    "ended": "ended_secretary",
    "natl": "national_coordinator",
    "cttee": "committee_member",
    "coord": "crisis_coordinator",
}
CRISIS_PERSONAS = {
    "anon": None,
    "membr": "member",
    "secr": "secretary",
    "treas": "treasurer",
    "resp": "crisis_responder",
    "oseg": "other_secretary",
    "ended": "ended_secretary",
    "natl": "national_coordinator",
    "coord": "bko_crisis_coordinator",
    "ncris": "national_crisis_coordinator",
    "scris": "seg_crisis_coordinator",
}

# Screens that change something are POST-only; the data asks for a harmless, allowed change.
POSTS = {
    "member_status": {"status": MemberStatus.SUSPENDED, "reason": "asked to pause"},
    "member_code": {},
    "role_end": {},
    "crisis:answer": {"answer": "ok"},
    "crisis:note": {"text": "Called the lawyer."},
    "crisis:close": {"outcome": "helped"},
    "crisis:merge": {},
    "crisis:unmerge": {},
    "crisis:slot_end": {},
    "crisis:case_open": {},
    "crisis:share": {"recipient_kind": "lawyer", "recipient": "Legal clinic", "consent": "on"},
    "crisis:alert_publish": {"criteria": ["danger", "anonymous", "needed", "expiry"]},
    "crisis:alert_withdraw": {},
    "crisis:reachable": {},
    "crisis:sms_at": {"from": "+22376000001", "text": "OK", "id": "ATXid_1"},
    "crisis:sms_at_delivery": {"id": "ATXid_1", "status": "Failed"},
    "crisis:sms_twilio": {"From": "+22376000001", "Body": "OK", "MessageSid": "SM1"},
    "crisis:sms_twilio_status": {"MessageSid": "SM1", "MessageStatus": "failed"},
}
# The welfare screens that only take a POST get an empty form: refused or explained, never
# acted on (transfer_decide approves: allowed cells may act, on this test's own objects).
POSTS.update(
    {
        f"dues:welfare_{name}": {}
        for name in (
            "approve",
            "reject",
            "ask",
            "conflict",
            "emergency",
            "review",
            "statement",
            "reconcile",
            "explain",
            "reverse_payout",
            "reverse_repayment",
            "rule",
            "gift",
            "transfer",
            "transfer_decide",
        )
    }
)
CRISIS_BY_CALLOUT = ("detail", "answer", "note", "close", "merge", "unmerge", "case_open", "share")


def _cells() -> list[tuple[str, str, str]]:
    cells = []
    for matrix, personas, prefix in (
        (MATRIX, PERSONAS, ""),
        (CRISIS_MATRIX, CRISIS_PERSONAS, "crisis:"),
    ):
        header, *rows = (line.split() for line in matrix.strip().splitlines())
        columns = header[1:]
        assert columns == list(personas), "matrix columns and personas differ"
        cells += [
            (prefix + row[0], col, cell)
            for row in rows
            for col, cell in zip(columns, row[1:], strict=True)
        ]
    return cells


@pytest.fixture
def bko_crisis_coordinator(bamako) -> Member:
    return crisis_officer(bamako, Role.CRISIS_COORDINATOR)


@pytest.fixture
def national_crisis_coordinator(bamako, national) -> Member:
    return crisis_officer(bamako, Role.CRISIS_COORDINATOR, scope=national)


@pytest.fixture
def seg_crisis_coordinator(segou) -> Member:
    return crisis_officer(segou, Role.CRISIS_COORDINATOR)


def test_every_crisis_screen_is_in_the_matrix():
    from crisis.urls import urlpatterns

    rows = {line.split()[0] for line in CRISIS_MATRIX.strip().splitlines()[1:]}
    screens = {pattern.name for pattern in urlpatterns}
    assert screens - rows == set(), "crisis screens missing from the access matrix"
    assert rows - screens == set(), "rows of the access matrix that are no crisis screen"


@pytest.fixture
def bko_objects(bamako) -> dict[str, object]:
    """The BKO things the screens are about: an active member holding a role, an applicant."""
    target = MemberFactory(branch=bamako, working_name="Fanta Target")
    role = RoleAssignment.objects.create(
        member=target,
        role=Role.WELFARE_COMMITTEE,
        branch=bamako,
        starts_on=timezone.localdate() - timedelta(days=10),
    )
    applicant = MemberFactory(branch=bamako, applicant=True)
    callout = Callout.objects.create(
        branch=bamako, kind="arrest", urgency=1, source="helpline", code="4821"
    )
    slot = RotaSlot.objects.create(
        branch=bamako,
        responder=target,
        position="primary",
        starts_at=time(8),
        ends_at=time(20),
        valid_from=timezone.localdate(),
    )
    alert = SafetyAlert.objects.create(
        branch=bamako, kind="police", expires_at=timezone.now() + timedelta(days=5)
    )
    SafetyAlertText.objects.create(alert=alert, language="fr", body="Contrôles au marché.")
    other = Callout.objects.create(
        branch=bamako, kind="raid", urgency=2, source="helpline", code="5133"
    )
    case = LegalCase.objects.create(branch=bamako, callout=other)
    share = ShareRecord.objects.create(
        callout=other, recipient_kind="lawyer", consent_recorded=True
    )
    return {
        "member": target,
        "applicant": applicant,
        "role": role,
        "callout": callout,
        "slot": slot,
        "alert": alert,
        "case": case,
        "share": share,
    }


def _crisis_url(name: str, objects: dict[str, object]) -> str:
    view = name.split(":", 1)[1]
    args: list[object] = []
    if view in CRISIS_BY_CALLOUT:
        args = [objects["callout"].public_id]  # type: ignore[attr-defined]
    elif view in ("slot_swap", "slot_end"):
        args = [objects["slot"].pk]  # type: ignore[attr-defined]
    elif view == "share_summary":
        args = [objects["share"].public_id]  # type: ignore[attr-defined]
    elif view == "case_detail":
        args = [objects["case"].public_id]  # type: ignore[attr-defined]
    elif view in ("alert_detail", "alert_publish", "alert_withdraw"):
        args = [objects["alert"].public_id]  # type: ignore[attr-defined]
    elif view == "reachable":
        args = [objects["member"].public_id]  # type: ignore[attr-defined]
    elif view in ("sms_at", "sms_at_delivery"):
        args = ["not-the-secret"]
    return reverse(name, args=args)


@pytest.fixture
def committee_member(bamako) -> Member:
    return _officer(bamako, Role.WELFARE_COMMITTEE)


@pytest.fixture
def crisis_coordinator(bamako) -> Member:
    return _officer(bamako, Role.CRISIS_COORDINATOR)


@pytest.fixture
def welfare_objects(bamako, bko_objects) -> dict[str, object]:
    """Awa's pending application with a document; her loan, paid in cash today (so an
    unmatched line: the cash book is open); the BKO emergency fund; a transfer waiting."""
    plans.set_dues_plan(
        actor=None,
        branch=bamako,
        monthly_amount=1000,
        solidarity_amount=500,
        grace_months=3,
        confirm_threshold=5000,
    )
    fund = funds.create_fund(actor=None, branch=bamako, purpose=Purpose.EMERGENCY)
    FundRule.objects.create(
        fund=fund,
        effective_from=timezone.localdate() - timedelta(days=30),
        share_bp=1000,
        good_standing_required=False,
        loans=True,
    )
    other = funds.create_fund(actor=None, branch=bamako, purpose=Purpose.MEDICAL)
    FundEntry.objects.create(
        fund=fund, kind="grant", amount=100_000, currency="XOF", booked_on=timezone.localdate()
    )
    awa = MemberFactory(branch=bamako, working_name="Awa Canary-Zebra", with_login=True)
    deciders = [_officer(bamako, Role.WELFARE_COMMITTEE) for _ in range(2)]
    payer = _officer(bamako, Role.TREASURER)
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    pending = applications.submit_application(
        actor=awa.user,
        member=awa,
        purpose=Purpose.EMERGENCY,
        amount=5_000,
        uploads=[applications.Upload(pdf)],
    )
    loan = applications.submit_application(
        actor=awa.user, member=awa, purpose=Purpose.EMERGENCY, amount=3_000, loan=True
    )
    for decider in deciders:
        applications.approve_application(
            actor=decider.user, application=loan, amount=3_000, reason="Within the rules."
        )
    payout = payouts.pay_application(
        actor=payer.user, application=loan, method="cash", paid_on=timezone.localdate()
    )
    run = reconciliation.reconcile_day(branch=bamako, day=timezone.localdate())
    repayment = loans.record_repayment(
        actor=payer.user, application=loan, amount=1_000, method="cash", paid_on=payout.paid_on
    )
    transfer = funds.request_transfer(
        actor=payer.user, from_fund=fund, to_fund=other, amount=1_000, reason="Medical costs."
    )
    return {
        "application": pending,
        "document": pending.documents.get(),
        "loan": loan,
        "payout": payout,
        "repayment": repayment,
        "fund": fund,
        "transfer": transfer,
        "item": run.items.get(),
    }


WELFARE_ARGS = {
    "mine": "application",
    "application": "application",
    "approve": "application",
    "reject": "application",
    "ask": "application",
    "conflict": "application",
    "emergency": "application",
    "review": "application",
    "pay": "application",
    "document": "document",
    "repay": "loan",
    "reverse_payout": "payout",
    "reverse_repayment": "repayment",
    "fund": "fund",
    "rule": "fund",
    "gift": "fund",
    "transfer": "fund",
    "transfer_decide": "transfer",
}


def _welfare_url(name: str, objects: dict[str, object]) -> str:
    view = name.removeprefix("dues:welfare_")
    args: list[object] = []
    if view in WELFARE_ARGS:
        args = [objects[WELFARE_ARGS[view]].public_id]  # type: ignore[attr-defined]
    elif view == "explain":
        args = [objects["item"].pk]  # type: ignore[attr-defined]
    elif view == "policy":
        args = ["BKO"]
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        pytest.fail(f"{name} is in the matrix but not in the urlconf: fix the matrix")


def _url(name: str, objects: dict[str, object]) -> str:
    if name.startswith("crisis:"):
        return _crisis_url(name, objects)
    if name.startswith("dues:welfare_"):
        return _welfare_url(name, objects)
    if name in ("member_detail", "member_edit", "member_status", "member_code", "member_erase"):
        args = [objects["member"].public_id]  # type: ignore[attr-defined]
    elif name == "applicant":
        args = [objects["applicant"].public_id]  # type: ignore[attr-defined]
    elif name == "role_end":
        args = [objects["role"].pk]  # type: ignore[attr-defined]
    elif name == "branch_contact":
        args = [objects["member"].branch.code]  # type: ignore[attr-defined]
    else:
        args = []
    try:
        return reverse(f"union:{name}", args=args)
    except NoReverseMatch:
        # A cell that cannot be checked is a hole in the policy, not a screen to come.
        pytest.fail(f"union:{name} is in the matrix but not in the urlconf: fix the matrix")


def test_a_screen_the_urlconf_does_not_know_fails_the_matrix():
    with pytest.raises(pytest.fail.Exception, match="union:no_such_screen"):
        _url("no_such_screen", {})


def test_every_welfare_screen_has_a_row():
    rows = {row for row, _persona, _cell in _cells()}
    screens = {f"dues:{pattern.name}" for pattern in welfare_urls.urlpatterns}
    assert sorted(screens - rows) == []


@pytest.mark.parametrize(("url_name", "persona", "expected"), _cells())
def test_access(client, login, request, bamako, segou, bko_objects, url_name, persona, expected):
    fixture = {**PERSONAS, **CRISIS_PERSONAS}[persona]
    if fixture is not None:
        login(client, request.getfixturevalue(fixture))
    welfare = url_name.startswith("dues:welfare_")
    if welfare:
        bko_objects = {**bko_objects, **request.getfixturevalue("welfare_objects")}
    url = _url(url_name, bko_objects)
    # A 404 may come after a redirect to a language prefix (the public site's catch-all).
    follow = expected == "404"
    if url_name in POSTS:
        data = dict(POSTS[url_name])
        if url_name == "crisis:merge":  # the duplicate to merge: BKO's other call-out
            data["duplicate"] = str(bko_objects["case"].callout.public_id)  # type: ignore[attr-defined]
        response = client.post(url, data, follow=follow)
    else:
        response = client.get(url, follow=follow)

    if expected == "login":
        assert response.status_code == 302
        assert urlsplit(response["Location"]).path == reverse("union:login")
    elif expected == "ok":
        assert response.status_code in (200, 302), response.status_code
        if response.status_code == 302:
            target = urlsplit(response["Location"]).path
            assert target not in (reverse("union:login"), reverse("union:two_factor"))
    else:
        assert response.status_code == int(expected)

    if expected != "ok" and welfare:
        _welfare_unchanged(bko_objects)
        if expected != "400":  # refused: not even the member's name shows
            assert "Canary-Zebra" not in response.content.decode()
    if expected != "ok":
        # Refused means nothing happened, too.
        target: Member = bko_objects["member"]  # type: ignore[assignment]
        target.refresh_from_db()
        assert target.status == MemberStatus.ACTIVE
        assert bko_objects["role"].is_open  # type: ignore[attr-defined]
        callout: Callout = bko_objects["callout"]  # type: ignore[assignment]
        callout.refresh_from_db()
        assert callout.status == CalloutStatus.REPORTED
        assert not callout.notes.exists()
        assert RotaSlot.objects.filter(pk=bko_objects["slot"].pk).exists()  # type: ignore[attr-defined]
        alert: SafetyAlert = bko_objects["alert"]  # type: ignore[assignment]
        alert.refresh_from_db()
        assert alert.status == "draft"
        assert not LegalCase.objects.filter(callout=callout).exists()
        assert not ShareRecord.objects.filter(callout=callout).exists()


def _welfare_unchanged(objects: dict[str, object]) -> None:
    application: WelfareApplication = objects["application"]  # type: ignore[assignment]
    application.refresh_from_db()
    assert application.status == ApplicationStatus.PENDING
    assert not application.decisions.exists()
    assert not application.conflicts.exists()
    assert Payout.objects.get(pk=objects["payout"].pk).status == PayoutStatus.PAID  # type: ignore[attr-defined]
    repayment: LoanRepayment = objects["repayment"]  # type: ignore[assignment]
    assert list(LoanRepayment.objects.values_list("pk", "reversed_at")) == [(repayment.pk, None)]
    item: ReconciliationItem = objects["item"]  # type: ignore[assignment]
    item.refresh_from_db()
    assert item.explained_at is None
    assert not StatementLine.objects.exists()
    assert FundTransfer.objects.get(pk=objects["transfer"].pk).status == TransferStatus.PENDING  # type: ignore[attr-defined]
    fund: Fund = objects["fund"]  # type: ignore[assignment]
    assert fund.rules.count() == 1
    assert not fund.entries.filter(kind__in=["donation", "transfer"]).exists()


ACCOUNT = """
url            anon   member  sec    treas  crisis other  ended  natl   cttee  coord
join           ok     ok      ok     ok     ok     ok     ok     ok     ok     ok
join_thanks    ok     ok      ok     ok     ok     ok     ok     ok     ok     ok
login          ok     ok      2fa    2fa    2fa    2fa    ok     2fa    2fa    2fa
logout         405    405     405    405    405    405    405    405    405    405
two_factor     login  ok      ok     ok     ok     ok     ok     ok     ok     ok
set_password   ok     ok      ok     ok     ok     ok     ok     ok     ok     ok
profile        login  ok      ok     ok     ok     ok     ok     ok     ok     ok
my_data        login  ok      ok     ok     ok     ok     ok     ok     ok     ok
my_data_csv    login  ok      ok     ok     ok     ok     ok     ok     ok     ok
forget_me      login  ok      ok     ok     ok     ok     ok     ok     ok     ok
import_job     login  403     ok     403    403    404    403    404    403    403
export_job     login  403     ok     403    403    404    403    404    403    403
"""
# The member's own pages and the public forms, and the pages of a register import or export
# (the officer's own: the secretary's job is nobody else's, not even the national level's).
# Signing out only takes a POST; a signed-in office bearer who opens the login page again
# passes through the second factor, which sends them on once passed.


@pytest.fixture
def everyone(request) -> dict[str, Member | None]:
    return {
        persona: None if fixture is None else request.getfixturevalue(fixture)
        for persona, fixture in PERSONAS.items()
    }


def _account_url(url_name: str, secretary: Member) -> str:
    args: list[object] = []
    if url_name == "import_job":
        job = ImportJob.objects.create(
            actor=secretary.user, kind="csv", token="t" * 20, sha256="0" * 64
        )
        args = [job.public_id]
    elif url_name == "export_job":
        args = [ExportJob.objects.create(actor=secretary.user, fmt="csv").public_id]
    return reverse(f"union:{url_name}", args=args)


@pytest.mark.parametrize(("url_name", "expected"), access.rows(ACCOUNT, PERSONAS))
def test_account_and_job_pages(everyone, secretary, url_name, expected):
    url = _account_url(url_name, secretary)
    mismatches = access.check_row(everyone, expected, url=url)
    assert not mismatches, mismatches


ADDRESSES = [
    name if ":" in name else f"union:{name}"
    for name in access.row_names(MATRIX) + access.row_names(ACCOUNT)
] + [f"crisis:{name}" for name in access.row_names(CRISIS_MATRIX)]


def test_every_address_of_the_project_has_a_row():
    """A screen added without a row in a matrix (tests/access.py MATRIX_MODULES) fails here:
    nobody has said who may open it, so nobody has checked it."""
    missing = access.without_a_row(access.addresses(), access.covered())
    assert not missing, f"addresses without a row in an access matrix: {missing}"


def test_every_row_names_an_address_of_the_project():
    known = {address.key for address in access.addresses()}
    assert sorted(access.covered() - known) == []


def test_a_new_address_without_a_row_is_reported():
    from django.http import HttpResponse
    from django.urls import include, path

    project = access.addresses()
    fresh = [path("office/", include(([path("new/", HttpResponse, name="new")], "fresh")))]
    every_row = {address.key for address in project}
    assert access.without_a_row(project + access.addresses(fresh), every_row) == ["fresh:new"]


def test_refusals_show_the_plain_pages(client, login, member, other_secretary, bko_objects):
    login(client, member)
    refused = client.get(reverse("union:members"))
    assert "Your roles do not give access to this page." in refused.content.decode()
    login(client, other_secretary)
    hidden = client.get(_url("member_detail", bko_objects), follow=True)
    assert hidden.status_code == 404
    body = hidden.content.decode()
    assert "There is nothing here, or it is not yours to see." in body
    assert "Fanta Target" not in body


# --- The second factor -----------------------------------------------------------------


def test_an_officer_without_the_second_factor_is_sent_to_it(client, secretary):
    client.force_login(secretary.user)  # password only
    response = client.get(reverse("union:members"))
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == reverse("union:two_factor")
    assert "next=%2Foffice%2Fmembers%2F" in location.query


def test_the_login_form_sends_office_bearers_to_the_second_factor(client, secretary):
    response = client.post(
        reverse("union:login"), {"username": secretary.number, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == reverse("union:two_factor")


def test_a_member_without_roles_is_not_asked_for_a_second_factor(client, member):
    response = client.post(
        reverse("union:login"), {"username": member.number, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == reverse("union:profile")  # their account
    assert client.get(reverse("union:profile")).status_code == 200


def _current_code(device: TOTPDevice) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits):06d}"


def test_the_second_factor_accepts_the_authenticator_code(client, secretary):
    client.force_login(secretary.user)
    device = TOTPDevice.objects.get(user=secretary.user)
    page = client.get(reverse("union:two_factor"), {"next": "/office/members/"})
    assert "6-digit code" in page.content.decode()

    response = client.post(
        reverse("union:two_factor"), {"token": _current_code(device), "next": "/office/members/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/office/members/"
    assert client.get("/office/members/").status_code == 200


def test_the_second_factor_refuses_a_wrong_code(client, secretary):
    client.force_login(secretary.user)
    device = TOTPDevice.objects.get(user=secretary.user)
    wrong = f"{(int(_current_code(device)) + 1) % 1_000_000:06d}"
    response = client.post(reverse("union:two_factor"), {"token": wrong})
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    still = client.get(reverse("union:members"))
    assert urlsplit(still["Location"]).path == reverse("union:two_factor")


def test_the_second_factor_does_not_send_an_officer_to_another_site(client, secretary):
    client.force_login(secretary.user)
    device = TOTPDevice.objects.get(user=secretary.user)
    response = client.post(
        reverse("union:two_factor"),
        {"token": _current_code(device), "next": "https://evil.example/steal"},
    )
    assert response.status_code == 302
    assert response["Location"] == "/office/"


def test_a_new_office_bearer_sets_up_the_authenticator_first(client, bamako, secretary):
    newcomer = MemberFactory(branch=bamako, with_login=True)
    RoleAssignment.objects.create(
        member=newcomer, role=Role.TREASURER, branch=bamako, starts_on=timezone.localdate()
    )
    client.force_login(newcomer.user)
    page = client.get(reverse("union:two_factor"))
    assert "Add this account to an authenticator app" in page.content.decode()
    device = TOTPDevice.objects.get(user=newcomer.user, confirmed=False)

    response = client.post(reverse("union:two_factor"), {"token": _current_code(device)})
    assert response.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("union:members")).status_code == 200


# --- bad input on every screen ------------------------------------------------------------


@pytest.mark.parametrize(
    ("url_name", "persona"),
    access.first_allowed(MATRIX, PERSONAS)
    + [(f"crisis:{name}", p) for name, p in access.first_allowed(CRISIS_MATRIX, CRISIS_PERSONAS)],
)
def test_bad_input_on_any_screen_gets_an_answer_not_a_crash(
    client, login, request, bamako, segou, bko_objects, url_name, persona
):
    """Every field of the screen's form, filled with each kind of garbage in turn: the
    answer is a page, a refusal or a redirect, never a crash (tests.access.send_garbage)."""
    fixture = {**PERSONAS, **CRISIS_PERSONAS}[persona]
    if fixture is not None:
        login(client, request.getfixturevalue(fixture))
    if url_name.startswith("dues:welfare_"):
        bko_objects = {**bko_objects, **request.getfixturevalue("welfare_objects")}
    access.send_garbage(client, _url(url_name, bko_objects), POSTS.get(url_name, {}))


@pytest.mark.parametrize(("url_name", "persona"), access.first_allowed(ACCOUNT, PERSONAS))
def test_bad_input_on_the_account_pages_gets_an_answer_not_a_crash(
    client, login, request, secretary, url_name, persona
):
    fixture = PERSONAS[persona]
    if fixture is not None:
        login(client, request.getfixturevalue(fixture))
    access.send_garbage(client, _account_url(url_name, secretary))
