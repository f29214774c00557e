"""Four eyes on everything the union publishes.

Wagtail's GroupApprovalTask lets any member of the group approve, including the editor who
submitted the page, and lets superusers approve anything. Here the approver must be an
editor (a member of the task's groups) who wrote none of the changes being published:
the submitter, and anyone who saved a revision since the page was last published, may
cancel or ask for changes but not approve.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from wagtail.models import AbstractGroupApprovalTask, Revision, TaskState, WorkflowState


def unpublished_authors(obj: Any) -> set[int]:
    """Ids of the users who wrote the changes that approval would publish."""
    authors: set[int] = set()
    state = WorkflowState.objects.active().for_instance(obj).first()
    if state is not None and state.requested_by_id is not None:
        authors.add(state.requested_by_id)
    revisions = Revision.objects.for_instance(obj)
    live_revision_id = getattr(obj, "live_revision_id", None)
    if live_revision_id is not None:
        revisions = revisions.filter(pk__gt=live_revision_id)
    authors.update(
        user_id for user_id in revisions.values_list("user_id", flat=True) if user_id is not None
    )
    return authors


class SecondEditorApprovalTask(AbstractGroupApprovalTask):
    class Meta:
        verbose_name = _("Second editor approval")
        verbose_name_plural = _("Second editor approvals")

    @classmethod
    def get_description(cls) -> Any:
        return _(
            "Another editor approves: whoever wrote or submitted the changes cannot approve them."
        )

    def _in_groups(self, user: Any) -> bool:
        return bool(user.is_authenticated and user.is_active and self._user_in_groups(user))

    def user_can_access_editor(self, obj: Any, user: Any) -> bool:
        return self._in_groups(user)

    def locked_for_user(self, obj: Any, user: Any) -> bool:
        return not self._in_groups(user)

    def may_approve(self, obj: Any, user: Any) -> bool:
        return self._in_groups(user) and user.pk not in unpublished_authors(obj)

    def get_actions(self, obj: Any, user: Any) -> list[tuple[str, Any, bool]]:
        if not self._in_groups(user):
            return []
        if user.pk in unpublished_authors(obj):
            # Their own work: they may withdraw it (cancel) but not approve or judge it.
            return []
        return [
            ("reject", _("Request changes"), True),
            ("approve", _("Approve and publish"), False),
            ("approve", _("Approve with comment"), True),
        ]

    def on_action(self, task_state: TaskState, user: Any, action_name: str, **kwargs: Any) -> Any:
        # The views already offer only get_actions(); this guards every other caller too.
        obj = task_state.workflow_state.content_object
        if hasattr(obj, "specific"):
            obj = obj.specific
        if action_name == "approve" and not self.may_approve(obj, user):
            raise PermissionDenied
        if action_name == "reject" and not self.may_approve(obj, user):
            raise PermissionDenied
        return super().on_action(task_state, user, action_name, **kwargs)

    def get_task_states_user_can_moderate(self, user: Any, **kwargs: Any) -> QuerySet[TaskState]:
        if not self._in_groups(user):
            return TaskState.objects.none()
        states = self.task_states.filter(status=TaskState.STATUS_IN_PROGRESS).exclude(
            workflow_state__requested_by=user
        )
        mine = [
            state.pk
            for state in states.select_related("workflow_state")
            if user.pk in unpublished_authors(state.workflow_state.content_object)
        ]
        return states.exclude(pk__in=mine)
