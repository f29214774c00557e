"""Background jobs of the public site. Both are safe to run twice and take no arguments."""

from __future__ import annotations

from celery import shared_task
from django.core.management import call_command


@shared_task(time_limit=120, soft_time_limit=100)
def publish_scheduled_pages() -> None:
    """Publish approved pages whose time has come and unpublish expired ones (each of which
    purges the page cache through Wagtail's publish signals)."""
    call_command("publish_scheduled", verbosity=0)


@shared_task(time_limit=120, soft_time_limit=100)
def sync_editor_groups() -> tuple[int, int]:
    """Roles end by date, with no write to notice: take ended editors out of the group."""
    from cms import editors

    return editors.sync_editor_groups()
