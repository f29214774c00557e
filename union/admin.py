"""The Django admin is for superusers (technical administrators) only; officers use /office/."""

from __future__ import annotations

from django.contrib import admin

from union.models import AuditEvent, Branch, RoleAssignment


@admin.register(Branch)
class BranchAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "region", "currency", "time_zone", "is_national")


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    list_display = ("role", "branch", "starts_on", "ends_on")
    list_filter = ("role", "branch")
    raw_id_fields = ("member",)

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "action", "branch", "target", "rows")
    list_filter = ("action", "branch")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


admin.site.site_header = "Solidaire"
