from django.contrib import admin

from .models import CatalogTest


@admin.register(CatalogTest)
class CatalogTestAdmin(admin.ModelAdmin):
    """The catalog is read-only in the console: it changes only through `load_catalog`."""

    list_display = ["name", "slug", "version", "evidence", "item_count", "estimated_minutes",
                    "is_current"]
    list_filter = ["evidence", "is_current"]
    search_fields = ["name", "slug", "construct"]
    exclude = ["definition"]
    readonly_fields = ["slug", "version", "name", "construct", "evidence", "item_count",
                       "estimated_minutes", "time_limit_seconds", "content_hash", "is_current",
                       "loaded_at", "retired_at"]

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
