"""What people type, by mistake or on purpose, is refused with a clear message and
stores nothing. No input gives a server error."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from tests.factories import MemberFactory
from union.models import Member


def _join(client, bamako, **fields):
    data = {"working_name": "Assitan", "branch": bamako.pk, "contact_preference": "none"}
    data.update(fields)
    return client.post(reverse("union:join"), data)


def _refused(response, message: str) -> None:
    assert response.status_code == 200, "the form is shown again, not a redirect or a crash"
    assert message in response.content.decode()
    assert not Member.objects.filter(source="public").exists()


@pytest.mark.parametrize(
    "name",
    [
        "<script>alert('x')</script>",
        "Awa <b>bold</b>",
        "{{ settings.SECRET_KEY }}",
        "Robert'); DROP TABLE union_member;--",
        "Awa\u0007Bell",
    ],
)
def test_markup_and_control_characters_in_a_name_are_refused(client, bamako, name):
    response = _join(client, bamako, working_name=name)
    _refused(response, "Names can use letters, spaces, dots, apostrophes and hyphens only.")
    assert "<script>alert" not in response.content.decode()  # not echoed back unescaped


def test_a_null_character_is_refused(client, bamako):
    _refused(_join(client, bamako, working_name="Awa\x00Null"), "Null characters are not allowed.")


@pytest.mark.parametrize(
    "name", ["Aïssata Koné", "N'Golo", "Marie-Thérèse", "Dr. Awa", "ស្រីពៅ", "Nomvula"]
)
def test_names_in_any_script_are_welcome(client, bamako, name):
    response = _join(client, bamako, working_name=name)
    assert response.status_code == 302
    assert Member.objects.get(source="public").working_name == name


def test_an_empty_name_is_refused(client, bamako):
    _refused(_join(client, bamako, working_name="   "), "This field is required.")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("working_name", "A" * 101, "Ensure this value has at most 100 characters"),
        ("phone", "7" * 33, "Ensure this value has at most 32 characters"),
        ("email", "a" * 250 + "@example.org", "Ensure this value has at most 254 characters"),
    ],
)
def test_overlong_input_is_refused(client, bamako, field, value, message):
    _refused(_join(client, bamako, **{field: value}), message)


def test_a_huge_post_is_refused_without_reading_it(client, bamako, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    response = _join(client, bamako, working_name="A" * 20_000)
    assert response.status_code == 400
    assert not Member.objects.exists()


@pytest.mark.parametrize("branch", ["999999", "not-a-number", "", "-1"])
def test_an_unknown_branch_is_refused(client, bamako, branch):
    response = _join(client, bamako, branch=branch)
    message = "This field is required." if branch == "" else "Select a valid choice"
    _refused(response, message)


def test_the_national_level_is_not_a_branch_to_join(client, bamako, national):
    _refused(_join(client, bamako, branch=national.pk), "Select a valid choice")


def test_the_join_form_never_tells_whether_a_number_is_registered(client, bamako, segou):
    """Anyone could otherwise check a phone number against the union's members. The
    application goes in as any other, without the number, marked for the officers."""
    MemberFactory(branch=segou, phone="+22376123456")
    known = _join(client, bamako, working_name="Awa", phone="76 12 34 56", consent_sms="on")
    unknown = _join(client, bamako, working_name="Fanta", phone="76 65 43 21", consent_sms="on")
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    awa = Member.objects.get(source="public", working_name="Awa")
    assert (awa.phone, awa.phone_hash) == ("", None)
    assert "déjà" in awa.notes  # Bamako works in French; officers see it on the applicant
    assert Member.objects.get(source="public", working_name="Fanta").phone == "+22376654321"


@pytest.mark.parametrize(
    ("phone", "message"),
    [
        ("hello", "This is not a phone number we can read."),
        ("123", "This phone number has the wrong length."),
        ("+223 76 12 34 56 78 90 12", "This phone number has the wrong length."),
        ("☎☎☎☎☎☎", "This is not a phone number we can read."),
    ],
)
def test_a_garbage_phone_is_refused(client, bamako, phone, message):
    _refused(_join(client, bamako, phone=phone), message)


def test_a_garbage_email_is_refused(client, bamako):
    _refused(_join(client, bamako, email="not-an-address"), "Enter a valid email address.")


def test_an_unknown_contact_choice_is_refused(client, bamako):
    _refused(_join(client, bamako, contact_preference="pigeon"), "Select a valid choice")


@pytest.mark.parametrize(
    "path",
    [
        "/office/members/not-a-uuid/",
        "/office/members/1/",
        "/office/members/../../etc/passwd/",
        "/office/members/%00/",
        "/office/applicants/12345/",
        f"/office/members/{uuid.uuid4()}/",
        f"/office/members/{uuid.uuid4()}/edit/",
        f"/office/applicants/{uuid.uuid4()}/",
    ],
)
def test_member_urls_that_name_no_member_are_not_found(client, login, secretary, path):
    login(client, secretary)
    # follow: the public site may first redirect an unknown address to its language prefix.
    response = client.get(path, follow=True)
    assert response.status_code == 404
    assert "There is nothing here, or it is not yours to see." in response.content.decode()


def test_set_password_with_two_different_passwords(client, login, secretary, bamako):
    member = MemberFactory(branch=bamako)
    login(client, secretary)
    code = client.post(reverse("union:member_code", args=[member.public_id])).context["code"]
    client.logout()
    response = client.post(
        reverse("union:set_password"),
        {
            "username": member.number,
            "code": code,
            "new_password1": "river-stones-and-rain-1",
            "new_password2": "river-stones-and-rain-2",
        },
    )
    assert response.status_code == 200
    assert "The two passwords are not the same." in response.content.decode()
    member.refresh_from_db()
    assert not member.user.has_usable_password()
    # The code was not spent on the mistake.
    response = client.post(
        reverse("union:set_password"),
        {
            "username": member.number,
            "code": code,
            "new_password1": "river-stones-and-rain-1",
            "new_password2": "river-stones-and-rain-1",
        },
    )
    assert response.status_code == 302


def test_set_password_refuses_a_weak_password(client):
    response = client.post(
        reverse("union:set_password"),
        {"username": "BKO-000001", "code": "X", "new_password1": "123", "new_password2": "123"},
    )
    assert response.status_code == 200
    assert "This password is too short." in response.content.decode()


def test_french_speakers_get_french_errors(french, bamako):
    response = _join(french, bamako, working_name="<b>x</b>", phone="hello")
    body = response.content.decode()
    assert response.status_code == 200
    assert 'lang="fr"' in body
    assert "Les noms ne peuvent contenir que des lettres" in body
    assert "Names can use letters" not in body
    assert "This is not a phone number we can read." not in body
