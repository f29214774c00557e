"""An editor working in French sees the approval step in French (issue 14, item 9)."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from tests.cms.builders import verified


def test_the_submit_button_names_the_approval_step_in_french(site, editor) -> None:
    editor.preferred_language = "fr"
    editor.save(update_fields=["preferred_language"])
    client = verified(Client(), editor.user)
    url = reverse("wagtailadmin_pages:add", args=["cms", "campaignpage", site.campaigns_fr.pk])
    html = client.get(url).content.decode()
    assert "Second editor approval" not in html
    assert "Validation par une seconde rédactrice" in html
