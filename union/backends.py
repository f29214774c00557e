"""Signing in: Django's own password check, with the member loaded alongside the user."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class MemberBackend(ModelBackend):
    """ModelBackend whose per-request user comes with its member and branch in the same
    query: nearly every page a signed-in person opens needs them."""

    def get_user(self, user_id: Any) -> Any:
        users = get_user_model()._default_manager.select_related("member", "member__branch")
        user = users.filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
