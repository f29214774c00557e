"""What the public site needs to exist at all, made sure of after every migrate.

Run from post_migrate (cms.apps), so a fresh database, and a test database emptied by a
flush, always has: a Locale per content language, a home page served at the root, the
Editors group with its permissions, and the second-editor workflow on the whole tree.
Everything here is idempotent and leaves content alone.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext
from wagtail.coreutils import get_content_languages
from wagtail.models import (
    Collection,
    GroupCollectionPermission,
    GroupPagePermission,
    Locale,
    Page,
    Site,
    Workflow,
    WorkflowPage,
    WorkflowTask,
)

from cms.editors import editors_group
from cms.models import HomePage
from cms.workflows import SecondEditorApprovalTask

logger = logging.getLogger(__name__)

WORKFLOW_NAME = "Second editor approval"
EDITOR_PAGE_PERMISSIONS = ("add_page", "change_page")
EDITOR_COLLECTION_PERMISSIONS = (
    ("wagtailimages", "add_image"),
    ("wagtailimages", "change_image"),
    ("wagtailimages", "choose_image"),
    ("wagtaildocs", "add_document"),
    ("wagtaildocs", "change_document"),
    ("wagtaildocs", "choose_document"),
)
EDITOR_PERMISSIONS = (
    ("wagtailadmin", "access_admin"),
    ("simple_translation", "submit_translation"),
)


def ensure_locales() -> None:
    for code in get_content_languages():
        Locale.objects.get_or_create(language_code=code)


def ensure_collection() -> Collection:
    """The root collection that images and documents go in (Wagtail's migrations make it,
    but a test's flush empties the table)."""
    return Collection.get_first_root_node() or Collection.add_root(name="Root")


def _root() -> Page:
    root = Page.get_first_root_node()
    if root is None:
        root = Page.add_root(instance=Page(title="Root", slug="root", locale=Locale.get_default()))
    return root


def ensure_home() -> HomePage:
    """The default site's root is a HomePage in the default language (created if missing)."""
    site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
    if site is not None and issubclass(site.root_page.specific_class or Page, HomePage):
        return site.root_page.specific
    root = _root()
    # Wagtail's own placeholder ("Welcome to your new Wagtail site!") goes if it is empty.
    for placeholder in root.get_children().filter(
        content_type__app_label="wagtailcore", content_type__model="page", numchild=0
    ):
        if site is not None and site.root_page_id == placeholder.pk:
            site.root_page = root
            site.save(update_fields=["root_page"])
        placeholder.delete()
    with translation.override(settings.LANGUAGE_CODE):
        home = HomePage(
            title=settings.SITE_NAME,
            slug="home",
            intro=gettext("A union run by its members, for its members."),
            locale=Locale.get_default(),
        )
    root.add_child(instance=home)
    home.save_revision().publish()
    if site is None:
        Site.objects.create(
            hostname="localhost",
            port=80,
            site_name=settings.SITE_NAME,
            root_page=home,
            is_default_site=True,
        )
    else:
        site.root_page = home
        site.save(update_fields=["root_page"])
    return home


def _permission(app_label: str, codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def ensure_editors_group() -> Group:
    """Editors add and change pages, images and documents; nobody publishes outside the
    workflow (the publish permission is held by no group)."""
    group = editors_group()
    root = _root()
    # Exactly these: Wagtail's own "Editors" group also deletes images and documents.
    group.permissions.set([_permission(app, codename) for app, codename in EDITOR_PERMISSIONS])
    wanted = [_permission("wagtailcore", codename) for codename in EDITOR_PAGE_PERMISSIONS]
    for permission in wanted:
        GroupPagePermission.objects.get_or_create(group=group, page=root, permission=permission)
    GroupPagePermission.objects.filter(group=group).exclude(
        page=root, permission__in=wanted
    ).delete()
    # Wagtail's default "Moderators" may publish directly; that would bypass the workflow.
    GroupPagePermission.objects.filter(permission__codename="publish_page").delete()
    collection = ensure_collection()
    if collection is not None:
        kept = []
        for app_label, codename in EDITOR_COLLECTION_PERMISSIONS:
            permission = _permission(app_label, codename)
            GroupCollectionPermission.objects.get_or_create(
                group=group, collection=collection, permission=permission
            )
            kept.append(permission.pk)
        GroupCollectionPermission.objects.filter(group=group).exclude(
            collection=collection, permission__in=kept
        ).delete()
    return group


def ensure_workflow(group: Group) -> Workflow:
    task = SecondEditorApprovalTask.objects.filter(name=WORKFLOW_NAME).first()
    if task is None:
        task = SecondEditorApprovalTask.objects.create(name=WORKFLOW_NAME)
    task.groups.add(group)
    workflow, _ = Workflow.objects.get_or_create(name=WORKFLOW_NAME)
    if not workflow.active:
        workflow.active = True
        workflow.save(update_fields=["active"])
    WorkflowTask.objects.get_or_create(workflow=workflow, task=task, defaults={"sort_order": 0})
    WorkflowPage.objects.update_or_create(page=_root(), defaults={"workflow": workflow})
    return workflow


@transaction.atomic
def ensure_site() -> None:
    ensure_locales()
    ensure_collection()
    ensure_home()
    ensure_workflow(ensure_editors_group())
