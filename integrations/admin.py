from django.contrib import admin

from tenants.admin_base import ManagerOnlyAdmin, OrgScopedAdmin

from .models import Connection, Delivery, InboundEvent, StageMapping


class StageMappingInline(admin.TabularInline):
    model = StageMapping
    extra = 0
    fields = ["stage_id", "stage_name", "posting_id", "posting_name", "tests", "expires_in_days",
              "is_active"]
    exclude = ["org"]


@admin.register(Connection)
class ConnectionAdmin(ManagerOnlyAdmin):
    list_display = ["__str__", "status", "last_inbound_at", "last_delivery_at", "last_error_at"]
    list_filter = ["provider", "status", "is_sandbox"]
    exclude = ["credentials", "webhook_secret"]
    readonly_fields = ["public_id", "webhook_url", "last_inbound_at", "last_delivery_at",
                       "last_error", "last_error_at", "created_at"]
    inlines = [StageMappingInline]

    @admin.display(description="Webhook URL to give the ATS")
    def webhook_url(self, obj):
        from django.conf import settings

        if obj.pk is None or obj.provider != "lever":
            return "—"
        return f"{settings.SITE_URL}/integrations/lever/{obj.public_id}/webhook"

    def save_formset(self, request, form, formset, change):
        for instance in formset.save(commit=False):
            instance.org_id = form.instance.org_id
            instance.save()
        for obj in formset.deleted_objects:
            obj.delete()


@admin.register(InboundEvent)
class InboundEventAdmin(OrgScopedAdmin):
    list_display = ["received_at", "connection", "event_type", "status", "attempts", "outcome"]
    list_filter = ["status", "event_type"]
    readonly_fields = ["connection", "event_type", "dedupe_key", "body", "received_at", "status",
                       "attempts", "processed_at", "outcome"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(OrgScopedAdmin):
    list_display = ["created_at", "kind", "connection", "status", "attempts", "next_attempt_at",
                    "last_error"]
    list_filter = ["status", "kind"]
    readonly_fields = ["connection", "kind", "key", "payload", "status", "attempts",
                       "next_attempt_at", "enqueued_at", "delivered_at", "last_error",
                       "created_at"]
    actions = ["retry_now"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Retry selected deliveries now")
    def retry_now(self, request, queryset):
        from .outbox import retry_now

        if not self._can_write(request):
            self.message_user(request, "Your role may not retry deliveries.", level="error")
            return
        count = 0
        for delivery in queryset.exclude(status="delivered"):
            retry_now(delivery)
            count += 1
        self.message_user(request, f"{count} delivery(ies) queued again.")
