"""The Wagtail admin (/cms-admin/): one login, the second factor, and only current editors."""

from __future__ import annotations

import re
from datetime import timedelta

from django.contrib.auth.models import Group
from django.test import Client
from django.utils import timezone
from wagtail.test.utils.form_data import nested_form_data, streamfield

from cms import quick_exit
from cms.editors import EDITORS_GROUP, sync_editor_groups
from tests.cms.builders import verified
from tests.factories import MemberFactory
from union.models import Member, MemberStatus, Role
from union.services import roles as role_services


def in_editors(member: Member) -> bool:
    assert member.user is not None
    return member.user.groups.filter(name=EDITORS_GROUP).exists()


def test_visitors_are_sent_to_the_union_login(client: Client, db) -> None:
    response = client.get("/cms-admin/pages/", follow=True)
    assert response.redirect_chain[-1] == ("/account/login/?next=%2Fcms-admin%2Fpages%2F", 302)
    # Wagtail's own login form is not used.
    assert client.get("/cms-admin/login/")["Location"].startswith("/account/login/")


def test_a_password_alone_is_not_enough(client: Client, editor: Member) -> None:
    client.force_login(editor.user)
    response = client.get("/cms-admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/account/two-factor/?next=%2Fcms-admin%2F")


def test_an_editor_with_the_second_factor_gets_in(editor: Member) -> None:
    response = verified(Client(), editor.user).get("/cms-admin/")
    assert response.status_code == 200
    assert (
        response["Cache-Control"].startswith("no-store") or "no-cache" in response["Cache-Control"]
    )


def test_members_and_other_officers_are_refused(member: Member, secretary: Member) -> None:
    for person in (member, secretary):
        response = verified(Client(), person.user).get("/cms-admin/", follow=True)
        assert response.status_code == 403
        assert not in_editors(person)


def test_the_group_follows_the_role(
    db, bamako, national_coordinator: Member, django_capture_on_commit_callbacks
) -> None:
    someone = MemberFactory(branch=bamako, with_login=True)
    with django_capture_on_commit_callbacks(execute=True):
        assignment = role_services.assign_role(
            actor=national_coordinator.user,
            member=someone,
            role=Role.EDITOR,
            branch=bamako,
            starts_on=timezone.localdate(),
        )
    assert in_editors(someone)
    with django_capture_on_commit_callbacks(execute=True):
        role_services.end_role(actor=national_coordinator.user, assignment=assignment)
    assert not in_editors(someone)


def test_an_ended_role_loses_the_admin_at_the_next_request(ended_editor: Member) -> None:
    # Even if the group was set by hand (or the role ended overnight, with no write at all).
    ended_editor.user.groups.add(Group.objects.get(name=EDITORS_GROUP))
    response = verified(Client(), ended_editor.user).get("/cms-admin/", follow=True)
    assert response.status_code == 403
    assert not in_editors(ended_editor)


def test_a_suspended_editor_loses_the_admin(editor: Member) -> None:
    Member.objects.filter(pk=editor.pk).update(status=MemberStatus.SUSPENDED)  # no signal
    response = verified(Client(), editor.user).get("/cms-admin/", follow=True)
    assert response.status_code == 403
    assert not in_editors(editor)


def test_the_daily_sync_removes_ended_roles(editor: Member, second_editor: Member) -> None:
    editor.roles.update(ends_on=timezone.localdate() - timedelta(days=1))
    assert sync_editor_groups() == (1, 1)
    assert not in_editors(editor)
    assert in_editors(second_editor)


def test_the_admin_has_its_own_content_security_policy(
    client: Client, editor: Member, site
) -> None:
    admin = verified(Client(), editor.user).get("/cms-admin/")
    directives = dict(
        part.strip().split(" ", 1) for part in admin["Content-Security-Policy"].split(";")
    )
    # No inline script, even in the admin, but the quick exit's (in previews), by its hash.
    assert directives["script-src"] == f"'self' {quick_exit.CSP_SOURCE}"
    assert directives["style-src"] == "'self' 'unsafe-inline'"  # Wagtail's style attributes
    assert admin["X-Frame-Options"] == "SAMEORIGIN"
    public = client.get("/en/")
    policy = public["Content-Security-Policy"]
    assert f"script-src 'self' {quick_exit.CSP_SOURCE};" in policy + ";"
    assert "unsafe-inline" not in policy
    assert public["X-Frame-Options"] == "DENY"


def test_the_preview_can_be_framed_by_the_editor(editor: Member, site) -> None:
    # Wagtail renders previews through the whole middleware stack a second time.
    client = verified(Client(), editor.user)
    form = nested_form_data(
        {
            "title": site.campaign.title,
            "slug": site.campaign.slug,
            "intro": "",
            "aim": "A new aim, previewed before it is saved.",
            "status": "ongoing",
            "demands": streamfield([]),
            "calls_to_action": streamfield([]),
            "body": streamfield([]),
            "updates": streamfield([]),
        }
    )
    url = f"/cms-admin/pages/{site.campaign.pk}/edit/preview/"
    assert client.post(url, form).json()["is_valid"]
    response = client.get(f"{url}?in_preview_panel=true")
    assert response.status_code == 200
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    assert policy["frame-ancestors"] == "'self'"
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert "A new aim, previewed before it is saved." in response.content.decode()


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>", re.I)


def test_the_page_editor_writes_no_inline_script(editor: Member, site) -> None:
    """The admin's policy runs no inline script: the choosers, date pickers and panels are
    started by static/cms/admin.js from markers (cms/admin_scripts.py)."""
    client = verified(Client(), editor.user)
    for page in (site.campaign, site.march):  # choosers; date-and-time pickers
        html = client.get(f"/cms-admin/pages/{page.pk}/edit/").content.decode()
        assert 'data-cms-init="' in html
        assert INLINE_SCRIPT.findall(html) == [], page
