from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _mark_role_holder(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """A member's first role: from now on their roles are looked up on each page."""
    if created:
        from union.models import Member, RoleAssignment

        Member.objects.filter(pk=instance.member_id, has_held_role=False).update(has_held_role=True)
        if RoleAssignment.member.is_cached(instance):  # the caller's copy, and its user's
            instance.member.has_held_role = True


class UnionConfig(AppConfig):
    name = "union"
    verbose_name = _("Union")

    def ready(self) -> None:
        from axes.models import AccessAttempt
        from celery.schedules import crontab
        from django.db.models.signals import post_save, pre_save

        from union import checks, lockouts, registry  # noqa: F401 - checks register themselves
        from union.models import AuditAction, RoleAssignment
        from union.notifications import messages

        post_save.connect(_mark_role_holder, sender=RoleAssignment, dispatch_uid="role_holder")
        pre_save.connect(
            lockouts.drop_request_details, sender=AccessAttempt, dispatch_uid="axes_minimal"
        )
        registry.register_audit_actions(AuditAction.choices)
        messages.register()
        _register_office_queues()
        registry.register_periodic_job(
            "sweep-notifications",
            task="union.tasks.sweep_notifications",
            schedule=crontab(minute="*"),
        )
        registry.register_periodic_job(
            "sweep-import-jobs",
            task="union.tasks.sweep_import_jobs",
            schedule=crontab(minute="*"),
        )
        registry.register_periodic_job(
            "sweep-export-jobs",
            task="union.tasks.sweep_export_jobs",
            schedule=crontab(minute="*"),
        )
        registry.register_periodic_job(
            "forget-login-attempts",
            task="union.tasks.forget_old_login_attempts",
            schedule=crontab(minute="7"),
        )
        registry.register_periodic_job(
            "clear-sessions",
            task="union.tasks.clear_expired_sessions",
            schedule=crontab(minute="17"),
        )


def _register_office_queues() -> None:
    from django.utils.translation import gettext_lazy as _

    from union import registry, selectors
    from union.permissions import Perm

    registry.register_office_queue(
        "union.applicants",
        label=_("Applications waiting"),
        count=lambda user: selectors.applicants_for(user).count(),
        url_name="union:applicants",
        perm=Perm.APPROVE_MEMBER,
    )
