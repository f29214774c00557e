"""A name cannot carry characters that reverse or reorder the text around it.

"Awa\u202eenirolF" shows as "AwaFlorine" in an officer's list, and a name can be made to
look like another member's or to swallow the columns next to it. Every path a name comes
in by (the join form, an officer's screens, the register import, the services) refuses
bidirectional control characters with a clear message. Names written in right-to-left
scripts need none of them and are welcome.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.union.test_import_export import _csv, _preview, _row_errors, _upload
from union.models import Member
from union.services.members import ContactDetails, register_applicant, update_contact_details
from union.validators import BIDI_CONTROLS

# The findings were reproduced on the embedded default: these run on SQLite too.
pytestmark = pytest.mark.embedded

MESSAGE = "Names cannot contain characters that change the direction of text."
CONTROLS = sorted(BIDI_CONTROLS)


def test_every_bidirectional_control_is_listed():
    expected = {chr(c) for c in range(0x202A, 0x202F)} | {chr(c) for c in range(0x2066, 0x206A)}
    expected |= {"\u200e", "\u200f", "\u061c"}
    assert expected == BIDI_CONTROLS


@pytest.mark.parametrize("control", CONTROLS, ids=[f"U+{ord(c):04X}" for c in CONTROLS])
def test_the_join_form_refuses_a_name_with_a_direction_control(client, bamako, control):
    response = client.post(
        reverse("union:join"),
        {"working_name": f"Awa{control}enirolF", "branch": bamako.pk, "contact_preference": "none"},
    )
    assert response.status_code == 200
    assert MESSAGE in response.content.decode()
    assert not Member.objects.exists()


@pytest.mark.parametrize("name", ["فاطمة الزهراء", "שרה לוי", "Awa (فاطمة)", "ស្រីពៅ"])
def test_names_in_right_to_left_scripts_are_welcome(client, bamako, name):
    response = client.post(
        reverse("union:join"),
        {"working_name": name, "branch": bamako.pk, "contact_preference": "none"},
    )
    assert response.status_code == 302
    assert Member.objects.get().working_name == name


def test_an_officer_cannot_give_a_legal_name_with_a_direction_control(
    client, login, secretary, member
):
    login(client, secretary)
    response = client.post(
        reverse("union:member_edit", args=[member.public_id]),
        {
            "legal_name": "Fatou\u202eexiaD",
            "preferred_language": "fr",
            "contact_preference": "none",
        },
    )
    assert response.status_code == 200
    assert MESSAGE in response.content.decode()
    member.refresh_from_db()
    assert "\u202e" not in member.legal_name


def test_assisted_registration_refuses_a_name_with_a_direction_control(
    client, login, secretary, bamako
):
    login(client, secretary)
    before = Member.objects.count()
    response = client.post(
        reverse("union:register_member"),
        {
            "working_name": "Awa\u2067Koné\u2069",
            "branch": bamako.pk,
            "preferred_language": "fr",
            "contact_preference": "none",
        },
    )
    assert response.status_code == 200
    assert MESSAGE in response.content.decode()
    assert Member.objects.count() == before


def test_the_import_refuses_a_row_whose_name_has_a_direction_control(client, login, secretary):
    login(client, secretary)
    content = _csv(
        ",Aminata,BKO,active,,,,,,,,,",  # 2: fine
        ",Awa\u202eenirolF,BKO,active,,,,,,,,,",  # 3: working name
        ",Kadi,BKO,active,,Kadi\u200fTraoré,,,,,,,",  # 4: legal name
    )
    response = _preview(client, _upload(content))
    errors = _row_errors(response)
    assert sorted(errors) == [3, 4]
    assert MESSAGE in errors[3]
    assert MESSAGE in errors[4]


def test_the_services_refuse_a_name_with_a_direction_control(secretary, bamako, member):
    with pytest.raises(ValidationError) as refused:
        register_applicant(
            actor=None,
            branch=bamako,
            working_name="Awa\u202dx",
            preferred_language="fr",
            contact_preference="none",
            contact=ContactDetails(),
        )
    assert MESSAGE in refused.value.message_dict["working_name"]
    with pytest.raises(ValidationError) as refused:
        update_contact_details(
            actor=secretary.user,
            member=member,
            contact=ContactDetails(legal_name="Awa\u061cx"),
            preferred_language="fr",
            contact_preference="none",
            consent_sms=False,
            consent_crisis_contact=False,
        )
    assert MESSAGE in refused.value.message_dict["legal_name"]
    member.refresh_from_db()
    assert "\u061c" not in member.legal_name
    assert not Member.objects.filter(working_name__startswith="Awa\u202d").exists()


def test_the_refusal_is_in_french_for_french_speakers(french, bamako):
    response = french.post(
        reverse("union:join"),
        {"working_name": "Awa\u202e", "branch": bamako.pk, "contact_preference": "none"},
    )
    assert "le sens du texte" in response.content.decode()
