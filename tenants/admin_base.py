"""The console's first wall: every admin list, form and foreign-key choice is scoped to the
signed-in user's current org, and what they may change depends on their role there.

Row-level security is the second wall (tenants/db/base.py): even a forgotten filter here returns
nothing from another org. Platform superusers see every org.
"""

from __future__ import annotations

from django.contrib import admin

from .models import MANAGER_ROLES, Role, TenantModel

WRITE_ROLES = {Role.OWNER, Role.ADMIN, Role.RECRUITER}


def role_of(request) -> str | None:
    membership = getattr(request, "membership", None)
    return membership.role if membership else None


class ReadOnlyMixin:
    """For records the console shows but never edits (catalog, audit log, results, attempts)."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class OrgScopedAdmin(admin.ModelAdmin):
    """Base ModelAdmin for tenant models. `write_roles` says who may add, change and delete."""

    write_roles: set[str] = WRITE_ROLES

    # Scoping ---------------------------------------------------------------------------------
    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(org=request.org) if request.org else qs.none()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        related = db_field.related_model
        if not request.user.is_superuser and issubclass(related, TenantModel):
            kwargs["queryset"] = related._default_manager.filter(org=request.org)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        related = db_field.related_model
        if not request.user.is_superuser and issubclass(related, TenantModel):
            kwargs["queryset"] = related._default_manager.filter(org=request.org)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_exclude(self, request, obj=None):
        exclude = list(super().get_exclude(request, obj) or [])
        if not request.user.is_superuser:
            exclude.append("org")
        return exclude

    def save_model(self, request, obj, form, change):
        if not change and not request.user.is_superuser:
            obj.org = request.org
        super().save_model(request, obj, form, change)

    # Permissions by role ----------------------------------------------------------------------
    def has_module_permission(self, request):
        return request.user.is_superuser or role_of(request) is not None

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser or role_of(request) is not None

    def _can_write(self, request) -> bool:
        return request.user.is_superuser or role_of(request) in self.write_roles

    def has_add_permission(self, request):
        return self._can_write(request)

    def has_change_permission(self, request, obj=None):
        return self._can_write(request)

    def has_delete_permission(self, request, obj=None):
        return self._can_write(request)


class ManagerOnlyAdmin(OrgScopedAdmin):
    write_roles = MANAGER_ROLES
