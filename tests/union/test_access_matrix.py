"""Who may open which office screen, and the second factor that guards them all.

The matrix below is the access policy written out. Every cell is a test: the persona
(see tests/conftest.py) requests the screen about a Bamako (BKO) member, applicant or role.

    login  redirected to the sign-in page (not signed in)
    403    signed in, but no role gives this right
    404    the right exists, but only for another branch: BKO's objects do not exist for them
    ok     allowed: 200, or a redirect that is not to sign-in or the second factor
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
from tests import access
from tests.factories import PASSWORD, MemberFactory
from union.models import ExportJob, ImportJob, Member, MemberStatus, Role, RoleAssignment

MATRIX = """
url               anon   member  secretary  treasurer  crisis  other_sec  ended  national
office            login  403     ok         ok         ok      ok         403    ok
members           login  403     ok         ok         403     ok         403    ok
member_detail     login  403     ok         ok         403     404        403    ok
member_edit       login  403     ok         403        403     404        403    ok
member_status     login  403     ok         403        403     404        403    ok
member_code       login  403     ok         403        403     404        403    ok
member_erase      login  403     ok         403        403     404        403    ok
applicants        login  403     ok         403        403     ok         403    ok
applicant         login  403     ok         403        403     404        403    ok
register_member   login  403     ok         403        ok      ok         403    403
roles             login  403     ok         403        403     ok         403    ok
role_end          login  403     ok         403        403     404        403    ok
import_members    login  403     ok         403        403     ok         403    ok
export_members    login  403     ok         403        403     ok         403    ok
crisis:report            login  ok   ok   ok   ok   ok   ok   ok
crisis:my_reports        login  ok   ok   ok   ok   ok   ok   ok
crisis:dashboard         login  403  403  403  ok   403  403  403
crisis:log               login  403  403  403  ok   403  403  403
crisis:detail            login  403  403  403  ok   403  403  403
crisis:answer            login  403  403  403  ok   403  403  403
crisis:note              login  403  403  403  ok   403  403  403
crisis:close             login  403  403  403  403  403  403  403
crisis:merge             login  403  403  403  403  403  403  403
crisis:unmerge           login  403  403  403  403  403  403  403
crisis:case_open         login  403  403  403  ok   403  403  403
crisis:share             login  403  403  403  403  403  403  403
crisis:share_summary     login  403  403  403  403  403  403  403
crisis:cases             login  403  403  403  ok   403  403  403
crisis:case_detail       login  403  403  403  ok   403  403  403
crisis:rota              login  403  403  403  ok   403  403  403
crisis:slot_add          login  403  403  403  403  403  403  403
crisis:slot_swap         login  403  403  403  403  403  403  403
crisis:slot_end          login  403  403  403  403  403  403  403
crisis:reachable         login  403  403  403  403  403  403  403
crisis:settings          login  403  403  403  403  403  403  403
crisis:alerts            login  ok   ok   ok   ok   ok   ok   ok
crisis:office_alerts     login  403  403  403  ok   403  403  403
crisis:alert_new         login  403  403  403  ok   403  403  403
crisis:alert_detail      login  403  403  403  ok   403  403  403
crisis:alert_publish     login  403  403  403  403  403  403  403
crisis:alert_withdraw    login  403  403  403  403  403  403  403
crisis:figures           login  403  403  403  403  403  403  ok
crisis:figures_export    login  403  403  403  403  403  403  ok
crisis:sms_at            403    403  403  403  403  403  403  403
crisis:sms_at_delivery   403    403  403  403  403  403  403  403
crisis:sms_twilio        403    403  403  403  403  403  403  403
crisis:sms_twilio_status 403    403  403  403  403  403  403  403
"""
# Crisis screens are the branch's crisis team's (the crisis coordinators' ones are tested
# with a coordinator in tests/crisis/test_screens.py, other branches' 404s there too). The
# SMS webhooks answer 403 to everyone without the provider's secret or signature.

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
CRISIS_BY_CALLOUT = ("detail", "answer", "note", "close", "merge", "unmerge", "case_open", "share")


def _cells() -> list[tuple[str, str, str]]:
    header, *rows = (line.split() for line in MATRIX.strip().splitlines())
    columns = header[1:]
    assert columns == list(PERSONAS), "matrix columns and personas differ"
    return [(row[0], col, cell) for row in rows for col, cell in zip(columns, row[1:], strict=True)]


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


def _url(name: str, objects: dict[str, object]) -> str:
    if name.startswith("crisis:"):
        return _crisis_url(name, objects)
    if name in ("member_detail", "member_edit", "member_status", "member_code", "member_erase"):
        args = [objects["member"].public_id]  # type: ignore[attr-defined]
    elif name == "applicant":
        args = [objects["applicant"].public_id]  # type: ignore[attr-defined]
    elif name == "role_end":
        args = [objects["role"].pk]  # type: ignore[attr-defined]
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


@pytest.mark.parametrize(("url_name", "persona", "expected"), _cells())
def test_access(client, login, request, bamako, segou, bko_objects, url_name, persona, expected):
    fixture = PERSONAS[persona]
    if fixture is not None:
        login(client, request.getfixturevalue(fixture))
    url = _url(url_name, bko_objects)
    # A 404 may come after a redirect to a language prefix (the public site's catch-all).
    follow = expected == "404"
    if url_name in POSTS:
        response = client.post(url, POSTS[url_name], follow=follow)
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


ACCOUNT = """
url            anon   member  secretary  treasurer  crisis  other_sec  ended  national
join           ok     ok      ok         ok         ok      ok         ok     ok
join_thanks    ok     ok      ok         ok         ok      ok         ok     ok
login          ok     ok      2fa        2fa        2fa     2fa        ok     2fa
logout         405    405     405        405        405     405        405    405
two_factor     login  ok      ok         ok         ok      ok         ok     ok
set_password   ok     ok      ok         ok         ok      ok         ok     ok
profile        login  ok      ok         ok         ok      ok         ok     ok
my_data        login  ok      ok         ok         ok      ok         ok     ok
my_data_csv    login  ok      ok         ok         ok      ok         ok     ok
forget_me      login  ok      ok         ok         ok      ok         ok     ok
import_job     login  403     ok         403        403     404        403    404
export_job     login  403     ok         403        403     404        403    404
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


@pytest.mark.parametrize(("url_name", "expected"), access.rows(ACCOUNT, PERSONAS))
def test_account_and_job_pages(everyone, secretary, url_name, expected):
    args: list[object] = []
    if url_name == "import_job":
        job = ImportJob.objects.create(
            actor=secretary.user, kind="csv", token="t" * 20, sha256="0" * 64
        )
        args = [job.public_id]
    elif url_name == "export_job":
        args = [ExportJob.objects.create(actor=secretary.user, fmt="csv").public_id]
    url = reverse(f"union:{url_name}", args=args)
    mismatches = access.check_row(everyone, expected, url=url)
    assert not mismatches, mismatches


ADDRESSES = [
    name if ":" in name else f"union:{name}"
    for name in access.row_names(MATRIX) + access.row_names(ACCOUNT)
]


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
    assert urlsplit(response["Location"]).path == reverse("union:home")
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
