"""No screen tells whether a phone number belongs to a member, in any branch.

Saving one's own profile, an officer's edit and an assisted registration all answer a
number already on the register the way the public join form does: the same answer as for
a free number, the number is not kept where it would conflict, a note goes on the record
for the member's own branch officers, and the refused attempt is audited (without the
number).
"""

from __future__ import annotations

from unittest import mock

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from tests.factories import MemberFactory
from union.crypto import keyed_hash
from union.models import AuditAction, AuditEvent, Member
from union.services import members as member_services
from union.services.members import ContactDetails, register_applicant, update_contact_details

TAKEN = "+22376123456"  # a Ségou member's number
FREE = "+22376654321"

pytestmark = pytest.mark.django_db


@pytest.fixture
def owner(segou) -> Member:
    return MemberFactory(branch=segou, working_name="Salimata Owner", phone=TAKEN)


def _profile(member: Member, phone: str) -> dict[str, str]:
    return {
        "legal_name": "",
        "phone": phone,
        "email": "",
        "preferred_language": "fr",
        "contact_preference": "sms",
        "consent_sms": "on",
    }


def _answer(client, response) -> tuple[int, str, list[str]]:
    """What the person saving learns: the status, where they are sent, and the messages on
    the page they land on."""
    location = response.get("Location", "")
    landed = client.get(location) if location else response
    return (
        response.status_code,
        location,
        [str(m) for m in get_messages(landed.wsgi_request)],
    )


def _refusals(member: Member) -> int:
    return AuditEvent.objects.filter(
        action=AuditAction.PHONE_REFUSED, target=f"member:{member.public_id}"
    ).count()


def test_profile_phone_change_never_reveals_a_registered_number(client, login, bamako, owner):
    awa = MemberFactory(branch=bamako, with_login=True, phone="+22370000001")
    fanta = MemberFactory(branch=bamako, with_login=True, phone="+22370000002")
    url = reverse("union:profile")

    taken = _answer(client, login(client, awa).post(url, _profile(awa, "76 12 34 56")))
    awa_page = client.get(url).content.decode()
    free = _answer(client, login(client, fanta).post(url, _profile(fanta, "76 65 43 21")))
    fanta_page = client.get(url).content.decode()

    assert taken == free  # same status, same address, same message
    # The page shows each member the number they gave: nothing to compare afterwards.
    assert 'value="+22376123456"' in awa_page
    assert 'value="+22376654321"' in fanta_page
    awa.refresh_from_db()
    # Not kept where it would conflict: the owner's number is the owner's alone.
    assert (awa.phone, awa.phone_hash) == ("+22370000001", keyed_hash("+22370000001"))
    assert Member.objects.filter(phone_hash=keyed_hash(TAKEN)).get() == owner
    assert "déjà" in awa.notes  # Bamako's officers see it, in Bamako's language
    assert _refusals(awa) == 1 and _refusals(fanta) == 0


def test_saving_the_profile_again_with_the_refused_number_is_no_new_attempt(
    client, login, bamako, owner
):
    awa = MemberFactory(branch=bamako, with_login=True)
    login(client, awa)
    client.post(reverse("union:profile"), _profile(awa, TAKEN))
    client.post(reverse("union:profile"), {**_profile(awa, TAKEN), "preferred_language": "en"})
    awa.refresh_from_db()
    assert awa.preferred_language == "en"
    assert awa.notes.count("\n") == 0  # one note, not one per save
    assert _refusals(awa) == 1


def test_a_free_number_later_replaces_the_refused_one(client, login, bamako, owner):
    awa = MemberFactory(branch=bamako, with_login=True)
    login(client, awa)
    client.post(reverse("union:profile"), _profile(awa, TAKEN))
    client.post(reverse("union:profile"), _profile(awa, FREE))
    awa.refresh_from_db()
    assert (awa.phone, awa.pending_phone) == (FREE, "")
    assert 'value="+22376654321"' in client.get(reverse("union:profile")).content.decode()


def test_officer_edit_never_reveals_a_number_registered_in_another_branch(
    client, login, secretary, bamako, owner
):
    awa = MemberFactory(branch=bamako, phone="+22370000001")
    fanta = MemberFactory(branch=bamako)
    login(client, secretary)
    data = {**_profile(awa, TAKEN), "notes": "met at the market"}
    taken = _answer(client, client.post(reverse("union:member_edit", args=[awa.public_id]), data))
    data = {**_profile(fanta, FREE), "notes": "met at the market"}
    free = _answer(client, client.post(reverse("union:member_edit", args=[fanta.public_id]), data))

    assert taken[0] == free[0] == 302
    assert taken[2] == free[2]
    awa.refresh_from_db()
    assert awa.phone == "+22370000001"
    assert awa.notes.startswith("met at the market")  # the officer's note, and ours after it
    assert "déjà" in awa.notes
    assert _refusals(awa) == 1


def test_assisted_registration_never_reveals_a_registered_number(
    client, login, crisis_responder, bamako, owner
):
    login(client, crisis_responder)
    url = reverse("union:register_member")
    data = {
        "working_name": "Kadi",
        "branch": bamako.pk,
        "contact_preference": "sms",
        "phone": "76 12 34 56",
        "preferred_language": "fr",
    }
    taken = _answer(client, client.post(url, data))
    free = _answer(
        client, client.post(url, {**data, "working_name": "Mariam", "phone": "76 65 43 21"})
    )

    assert taken == free
    kadi = Member.objects.get(working_name="Kadi")
    assert (kadi.phone, kadi.phone_hash) == ("", None)
    assert "déjà" in kadi.notes
    assert Member.objects.get(working_name="Mariam").phone == FREE
    assert _refusals(kadi) == 1


def test_the_public_form_audits_its_refused_numbers_too(client, bamako, owner):
    client.post(
        reverse("union:join"),
        {"working_name": "Assitan", "branch": bamako.pk, "contact_preference": "none",
         "phone": TAKEN},
    )  # fmt: skip
    assitan = Member.objects.get(working_name="Assitan")
    assert _refusals(assitan) == 1
    event = AuditEvent.objects.get(action=AuditAction.PHONE_REFUSED)
    assert event.actor is None and event.branch == bamako


def test_a_number_registered_at_the_same_moment_goes_in_without_the_number(bamako, owner):
    """Two registrations of one number, both past the check: the unique index decides, and
    the loser is answered like any other, not with an error that would tell."""
    with mock.patch.object(member_services, "phone_in_use", return_value=False):
        second = register_applicant(
            actor=None,
            branch=bamako,
            working_name="Second",
            preferred_language="fr",
            contact_preference="sms",
            contact=ContactDetails(phone=TAKEN),
        )
    second.refresh_from_db()
    assert (second.phone, second.phone_hash) == ("", None)
    assert "déjà" in second.notes
    assert _refusals(second) == 1


def test_a_number_taken_at_the_same_moment_as_an_edit_is_not_kept(secretary, bamako, owner):
    awa = MemberFactory(branch=bamako, phone="+22370000001")
    with mock.patch.object(member_services, "phone_in_use", return_value=False):
        update_contact_details(
            actor=secretary.user,
            member=awa,
            contact=ContactDetails(phone=TAKEN, notes=""),
            preferred_language="fr",
            contact_preference="sms",
            consent_sms=True,
            consent_crisis_contact=False,
        )
    awa.refresh_from_db()
    assert awa.phone == "+22370000001"
    assert "déjà" in awa.notes
    assert _refusals(awa) == 1


def test_the_note_is_for_the_members_own_branch_only(
    client, login, bamako, owner, other_secretary, secretary
):
    awa = MemberFactory(branch=bamako, with_login=True)
    login(client, awa).post(reverse("union:profile"), _profile(awa, TAKEN))
    login(client, other_secretary)
    elsewhere = client.get(reverse("union:member_detail", args=[awa.public_id]), follow=True)
    assert elsewhere.status_code == 404
    login(client, secretary)
    page = client.get(reverse("union:member_detail", args=[awa.public_id])).content.decode()
    assert "déjà" in page or "already" in page
    assert TAKEN not in page  # the note says a number was refused, not whose it is
