from __future__ import annotations

import uuid

from django.urls import reverse


def test_another_branchs_member_is_a_plain_not_found_without_a_language_redirect(
    client, login, other_secretary, member
):
    login(client, other_secretary)
    response = client.get(reverse("union:member_detail", args=[member.public_id]))
    assert response.status_code == 404


def test_an_unknown_member_is_a_plain_not_found(client, login, secretary):
    login(client, secretary)
    response = client.get(reverse("union:member_detail", args=[uuid.uuid4()]))
    assert response.status_code == 404
