"""French as a member reads it (issue 14, item 9): "Saved." in the language just chosen,
and the member's own account speaking to them, not about them."""

from __future__ import annotations

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _profile_form(member, **changes: str) -> dict[str, str]:
    data = {
        "legal_name": "",
        "phone": "",
        "email": "",
        "preferred_language": member.preferred_language,
        "contact_preference": "none",
    }
    return {**data, **changes}


def test_saved_is_said_in_the_language_just_chosen(client: Client, member) -> None:
    client.force_login(member.user)
    response = client.post("/account/", _profile_form(member, preferred_language="fr"), follow=True)
    html = response.content.decode()
    assert '<html lang="fr"' in html
    assert "Enregistré." in html
    assert ">Saved.<" not in html


def test_the_account_page_speaks_to_the_member(french: Client, member) -> None:
    french.force_login(member.user)
    html = french.get("/account/").content.decode()
    labels = " ".join(re.findall(r"<(?:label|legend)[^>]*>([^<]*)</(?:label|legend)>", html))
    assert "la joindre" not in labels and "Accepte" not in labels
    assert "Comment voulez-vous que nous vous joignions" in labels
    assert "Votre numéro de téléphone" in labels


def test_officers_still_read_about_the_member(french: Client, login, secretary, member):
    login(french, secretary)
    html = french.get(f"/office/members/{member.public_id}/edit/").content.decode()
    assert "Comment la joindre" in html
