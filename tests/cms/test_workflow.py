"""Nothing is published without a second editor: the one who wrote or submitted a change
cannot approve it, whoever they are."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse
from wagtail.models import Page, TaskState
from wagtail.test.utils.form_data import nested_form_data, streamfield

from cms.models import CampaignPage
from cms.workflows import SecondEditorApprovalTask
from tests.cms.builders import verified

FORM = nested_form_data(
    {
        "title": "Des comptes en banque pour toutes",
        "slug": "comptes-en-banque",
        "intro": "",
        "aim": "Que les banques ouvrent des comptes aux travailleuses du sexe.",
        "status": "ongoing",
        "demands": streamfield([("demand", "Aucun refus à cause de notre travail.")]),
        "calls_to_action": streamfield([]),
        "body": streamfield([]),
        "updates": streamfield([]),
    }
)


def submit_draft(client: Client, parent: Page) -> CampaignPage:
    """An editor drafts a campaign and submits it for approval, through the admin."""
    url = reverse("wagtailadmin_pages:add", args=["cms", "campaignpage", parent.pk])
    response = client.post(url, {**FORM, "action-submit": "action-submit"})
    assert response.status_code == 302, response.content.decode()[:2000]
    return CampaignPage.objects.get(slug="comptes-en-banque")


def approve(client: Client, page: Page) -> bool:
    """Try to approve through the admin; True if the page is now published.

    (The admin answers a refusal by sending the user back to the dashboard with a message.)
    """
    state = page.current_workflow_task_state
    url = reverse("wagtailadmin_pages:workflow_action", args=[page.pk, "approve", state.pk])
    response = client.post(url, {"comment": ""})
    assert response.status_code == 302
    page.refresh_from_db()
    return page.live


def test_the_editor_who_submitted_cannot_approve(site, editor, second_editor) -> None:
    writer = verified(Client(), editor.user)
    page = submit_draft(writer, site.campaigns_fr)
    assert not page.live
    assert page.current_workflow_task.specific.__class__ is SecondEditorApprovalTask

    assert not approve(writer, page)
    assert page.current_workflow_task_state.status == TaskState.STATUS_IN_PROGRESS
    assert writer.get(page.get_url() or "/fr/campagnes/comptes-en-banque/").status_code == 404


def test_a_second_editor_approves_and_the_page_is_published(
    client: Client, site, editor, second_editor
) -> None:
    page = submit_draft(verified(Client(), editor.user), site.campaigns_fr)
    reviewer = verified(Client(), second_editor.user)
    assert approve(reviewer, page)
    assert page.url == "/fr/campagnes/comptes-en-banque/"
    assert "Des comptes en banque pour toutes" in client.get(page.url).content.decode()
    assert page.current_workflow_state is None


def test_the_dashboard_offers_a_page_only_to_those_who_may_approve_it(
    site, editor, second_editor
) -> None:
    page = submit_draft(verified(Client(), editor.user), site.campaigns_fr)
    task = page.current_workflow_task.specific
    assert not task.get_task_states_user_can_moderate(editor.user).exists()
    assert task.get_task_states_user_can_moderate(second_editor.user).exists()
    assert task.get_actions(page, editor.user) == []
    assert "approve" in [
        name for name, _label, _modal in task.get_actions(page, second_editor.user)
    ]


def test_an_editor_who_changed_the_draft_cannot_approve_it_either(
    site, editor, second_editor
) -> None:
    page = submit_draft(verified(Client(), editor.user), site.campaigns_fr)
    # The second editor rewrites part of it while it is under review...
    page.aim = "Des comptes pour toutes, sans condition."
    page.save_revision(user=second_editor.user)
    reviewer = verified(Client(), second_editor.user)
    # ...so now neither of them may approve: a third editor must.
    assert not approve(reviewer, page)
    task = page.current_workflow_task.specific
    with pytest.raises(PermissionDenied):
        task.on_action(page.current_workflow_task_state, second_editor.user, "approve")


def test_a_superuser_outside_the_editors_is_no_reviewer(site, editor) -> None:
    page = submit_draft(verified(Client(), editor.user), site.campaigns_fr)
    admin = get_user_model().objects.create_superuser("tech", password="a-long-password-1")
    assert not approve(verified(Client(), admin), page)


def test_editors_cannot_publish_directly(site, editor) -> None:
    writer = verified(Client(), editor.user)
    url = reverse("wagtailadmin_pages:add", args=["cms", "campaignpage", site.campaigns_fr.pk])
    writer.post(url, {**FORM, "action-publish": "action-publish"})
    page = CampaignPage.objects.get(slug="comptes-en-banque")
    assert not page.live
    assert not TaskState.objects.filter(status=TaskState.STATUS_APPROVED).exists()


def test_scheduled_publishing_waits_for_approval_and_then_for_the_date(
    site, editor, second_editor, time_machine
) -> None:
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    go_live = timezone.now() + timedelta(days=2)
    writer = verified(Client(), editor.user)
    url = reverse("wagtailadmin_pages:add", args=["cms", "campaignpage", site.campaigns_fr.pk])
    data = {**FORM, "go_live_at": go_live.strftime("%Y-%m-%d %H:%M"), "action-submit": "1"}
    assert writer.post(url, data).status_code == 302
    page = CampaignPage.objects.get(slug="comptes-en-banque")
    assert not approve(verified(Client(), second_editor.user), page)  # approved, not yet due
    assert page.current_workflow_state is None
    time_machine.move_to(go_live + timedelta(minutes=1))
    call_command("publish_scheduled", verbosity=0)
    page.refresh_from_db()
    assert page.live
