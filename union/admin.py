"""The Django admin is for superusers (technical administrators) only; officers use /office/."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from union.http import safe_next
from union.models import AuditEvent, Branch, RoleAssignment


class ReadOnlyAdmin(admin.ModelAdmin):
    """Union records can be looked at here, never written: every change goes through the
    union's services, which check who may make it (may_assign_role, the two-officer rule)
    and write the audit log. Even a superuser cannot add, change or delete them here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    """Branches are set up here (no other screen does it). Once a branch exists, what its
    members' numbers, money and roles depend on is fixed: its code, its currency, whether
    it is the national level and where it sits in the tree."""

    list_display = ("code", "name", "region", "currency", "time_zone", "is_national")
    fixed_once_created = ("code", "currency", "is_national", "parent")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.fixed_once_created if obj is not None else ()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(ReadOnlyAdmin):
    list_display = ("role", "branch", "starts_on", "ends_on")
    list_filter = ("role", "branch")
    raw_id_fields = ("member",)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("at", "actor", "action", "branch", "target", "rows")
    list_filter = ("action", "branch")


def _superuser_with_second_factor(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_superuser and user.is_verified())  # type: ignore[union-attr,attr-defined]


def _admin_login(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    """The admin has no login form of its own: our login, then the second factor."""
    next_url = safe_next(request, reverse("admin:index"))
    if request.user.is_authenticated and request.user.is_verified():  # type: ignore[union-attr,attr-defined]
        raise PermissionDenied  # signed in with both factors, but not a superuser
    if request.user.is_authenticated:
        return redirect(f"{reverse('union:two_factor')}?{urlencode({'next': next_url})}")
    return redirect_to_login(next_url)


admin.site.has_permission = _superuser_with_second_factor  # type: ignore[method-assign]
admin.site.login = _admin_login  # type: ignore[method-assign]
admin.site.site_header = "Solidaire"
