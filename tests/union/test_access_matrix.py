"""Who may open which office screen, and the second factor that guards them all.

The matrix below is the access policy written out. Every cell is a test: the persona
(see tests/conftest.py) requests the screen about a Bamako (BKO) member, applicant or role.

    login  redirected to the sign-in page (not signed in)
    403    signed in, but no role gives this right
    404    the right exists, but only for another branch: BKO's objects do not exist for them
    ok     allowed: 200, or a redirect that is not to sign-in or the second factor
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import PASSWORD, MemberFactory
from union.models import Member, MemberStatus, Role, RoleAssignment

MATRIX = """
url               anon   member  secretary  treasurer  crisis  other_sec  ended  national
office            login  403     ok         ok         ok      ok         403    ok
members           login  403     ok         ok         403     ok         403    ok
member_detail     login  403     ok         ok         403     404        403    ok
member_edit       login  403     ok         403        403     404        403    ok
member_status     login  403     ok         403        403     404        403    ok
member_code       login  403     ok         403        403     404        403    ok
applicants        login  403     ok         403        403     ok         403    ok
applicant         login  403     ok         403        403     404        403    ok
register_member   login  403     ok         403        ok      ok         403    403
roles             login  403     ok         403        403     ok         403    ok
role_end          login  403     ok         403        403     404        403    ok
import_members    login  403     ok         403        403     ok         403    ok
export_members    login  403     ok         403        403     ok         403    ok
"""

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
}


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
    return {"member": target, "applicant": applicant, "role": role}


def _url(name: str, objects: dict[str, object]) -> str:
    if name in ("member_detail", "member_edit", "member_status", "member_code"):
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
