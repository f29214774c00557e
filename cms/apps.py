from __future__ import annotations

from typing import Any

from django.apps import AppConfig, apps
from django.db.models.signals import post_delete, post_migrate, post_save
from django.utils.translation import gettext_lazy as _


def _after_migrate(sender: AppConfig, **kwargs: Any) -> None:
    # post_migrate is sent once per app; run after the last one, when every app's
    # permissions and content types exist.
    if sender is not list(apps.get_app_configs())[-1]:
        return
    from cms.setup import ensure_site

    ensure_site()


class CmsConfig(AppConfig):
    name = "cms"
    verbose_name = _("Public site")

    def ready(self) -> None:
        from celery.schedules import crontab
        from wagtail.documents import get_document_model
        from wagtail.images import get_image_model
        from wagtail.models import get_page_models
        from wagtail.signals import page_published, page_unpublished, post_page_move

        from cms import admin_scripts, cache, editors, statistics
        from union import registry
        from union.models import Member, RoleAssignment

        statistics.register_platform_statistics()
        registry.register_office_queue(
            "cms.approvals",
            label=_("Pages waiting for your approval"),
            count=editors.pages_to_approve,
            url_name="wagtailadmin_home",
            applies=editors.holds_editor_role,
        )
        admin_scripts.install()  # the admin's choosers without inline scripts
        registry.register_periodic_job(
            "cms-publish-scheduled",
            task="cms.tasks.publish_scheduled_pages",
            schedule=crontab(minute="*"),
        )
        registry.register_periodic_job(
            "cms-sync-editors", task="cms.tasks.sync_editor_groups", schedule=crontab(minute=11)
        )

        def purge(**kwargs: Any) -> None:
            cache.purge()

        # weak=False: `purge` is local to this method and would otherwise be collected.
        page_published.connect(purge, weak=False, dispatch_uid="cms_purge_published")
        page_unpublished.connect(purge, weak=False, dispatch_uid="cms_purge_unpublished")
        post_page_move.connect(purge, weak=False, dispatch_uid="cms_purge_moved")
        # Saving a draft changes nothing public; deleting a page, or changing a picture or a
        # document that pages show, does.
        from wagtail.models import Locale, PageViewRestriction, Site

        from union.models import Branch

        # Branch: pages show its public contact details (the branch contacts block).
        for model in (
            get_image_model(),
            get_document_model(),
            Locale,
            PageViewRestriction,
            Site,
            Branch,
        ):
            uid = f"cms_purge_{model._meta.label}"
            post_save.connect(purge, sender=model, weak=False, dispatch_uid=uid)
            post_delete.connect(purge, sender=model, weak=False, dispatch_uid=f"{uid}_deleted")
        for model in get_page_models():
            uid = f"cms_purge_{model._meta.label}_deleted"
            post_delete.connect(purge, sender=model, weak=False, dispatch_uid=uid)

        post_save.connect(editors.on_role_saved, sender=RoleAssignment, dispatch_uid="cms_role")
        post_save.connect(editors.on_member_saved, sender=Member, dispatch_uid="cms_member")
        post_migrate.connect(_after_migrate, dispatch_uid="cms_ensure_site")
