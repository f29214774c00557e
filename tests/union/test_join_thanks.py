"""The join thank-you page tells the truth about contact and says where the branch is
(issue 14, item 8): who chose "do not contact me" is not promised a call, and everyone
gets the branch's public helpline and drop-in centre, which the branch keeps up to date."""

from __future__ import annotations

import pytest
from django.test import Client

from union.models import Branch
from union.services import branches as branch_services

pytestmark = pytest.mark.django_db

HELPLINE = "+223 20 22 33 44"
ADDRESS = "Rue 311, porte 42, Hamdallaye"
HOURS = "Monday to Friday, 9:00 to 17:00"


@pytest.fixture
def bamako_open(bamako: Branch, secretary) -> Branch:
    return branch_services.set_public_contact(
        actor=secretary.user, branch=bamako, helpline=HELPLINE, address=ADDRESS, hours=HOURS
    )


def _join(client: Client, branch: Branch, contact: str, **extra: str) -> str:
    response = client.post(
        "/join/",
        {"working_name": "Nafi", "branch": branch.pk, "contact_preference": contact, **extra},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/join/thanks/"
    return response.content.decode()


def test_who_chose_not_to_be_contacted_is_not_promised_a_call(client: Client, bamako_open):
    html = _join(client, bamako_open, "none")
    assert "the way you chose" not in html
    assert "You asked us not to contact you" in html
    for detail in (HELPLINE, ADDRESS, HOURS):
        assert detail in html


def test_who_chose_sms_is_told_it_will_be_a_text_message(client: Client, bamako_open):
    html = _join(client, bamako_open, "sms", phone="76 12 34 56", consent_sms="on")
    assert "by text message" in html
    assert HELPLINE in html


def test_only_a_secretary_of_the_branch_sets_its_public_contact(bamako, other_secretary):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        branch_services.set_public_contact(
            actor=other_secretary.user, branch=bamako, helpline=HELPLINE, address="", hours=""
        )


def test_the_secretary_edits_the_public_contact_from_the_office(client: Client, login, secretary):
    login(client, secretary)
    url = "/office/branches/BKO/contact/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"helpline": HELPLINE, "address": ADDRESS, "hours": HOURS})
    assert response.status_code == 302
    assert Branch.objects.get(code="BKO").public_helpline == HELPLINE
