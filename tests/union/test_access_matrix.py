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
from tests.crisis.conftest import crisis_officer
from tests.factories import PASSWORD, MemberFactory
from union.models import Member, MemberStatus, Role, RoleAssignment

MATRIX = """
url             anon  member secretary treasurer crisis other_sec ended national
office          login 403    ok        ok        ok     ok        403   ok
members         login 403    ok        ok        403    ok        403   ok
member_detail   login 403    ok        ok        403    404       403   ok
member_edit     login 403    ok        403       403    404       403   ok
member_status   login 403    ok        403       403    404       403   ok
member_code     login 403    ok        403       403    404       403   ok
member_erase    login 403    ok        403       403    404       403   ok
applicants      login 403    ok        403       403    ok        403   ok
applicant       login 403    ok        403       403    404       403   ok
register_member login 403    ok        403       ok     ok        403   403
roles           login 403    ok        403       403    ok        403   ok
role_end        login 403    ok        403       403    404       403   ok
import_members  login 403    ok        403       403    ok        403   ok
export_members  login 403    ok        403       403    ok        403   ok
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
    "secretary": "secretary",
    "treasurer": "treasurer",
    "crisis": "crisis_responder",
    "other_sec": "other_secretary",
    "ended": "ended_secretary",
    "national": "national_coordinator",
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
    fixture = {**PERSONAS, **CRISIS_PERSONAS}[persona]
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
