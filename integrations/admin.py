from django.conf import settings
from django.contrib import admin

from tenants.admin_base import ManagerOnlyAdmin, OrgScopedAdmin, role_of
from tenants.models import MANAGER_ROLES

from .errors import ProviderError
from .forms import LiveLists, PerformAsForm, StageMappingForm, test_choices
from .models import Connection, Delivery, InboundEvent, StageMapping
from .providers.lever import connect as lever_connect


def live_lists(connection) -> LiveLists:
    """Lever's stages and postings for the mapping forms (cached 10 minutes per connection)."""
    if connection is None or connection.provider != "lever":
        return LiveLists(error="not a Lever connection")
    if not lever_connect.is_connected(connection):
        return LiveLists(error="not connected: connect Lever first")
    try:
        return LiveLists(stages=lever_connect.stages(connection),
                         postings=lever_connect.postings(connection))
    except ProviderError as exc:
        return LiveLists(error=str(exc))


class StageMappingInline(admin.StackedInline):
    """Stage (live list) → optional posting (live list) → ordered tests → expiry."""

    model = StageMapping
    form = StageMappingForm
    extra = 0
    fields = ["stage_id", "posting_id", "tests", "expires_in_days", "is_active"]
    verbose_name = "stage mapping"

    def _can_write(self, request) -> bool:
        return request.user.is_superuser or role_of(request) in MANAGER_ROLES

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser or role_of(request) is not None

    def has_add_permission(self, request, obj=None):
        return self._can_write(request)

    def has_change_permission(self, request, obj=None):
        return self._can_write(request)

    def has_delete_permission(self, request, obj=None):
        return self._can_write(request)

    def get_formset(self, request, obj=None, **kwargs):
        kwargs["form"] = type("StageMappingForm", (StageMappingForm,),
                              {"lists": live_lists(obj),
                                "catalog": test_choices(getattr(request, "org", None))})
        return super().get_formset(request, obj, **kwargs)


@admin.register(Connection)
class ConnectionAdmin(ManagerOnlyAdmin):
    """Connections are made with "Connect Lever" (OAuth), not the add form; the change page shows
    the live status, the manual step in Lever, perform_as, and the mappings."""

    change_form_template = "integrations/connection_change_form.html"
    change_list_template = "integrations/connection_change_list.html"
    list_display = ["__str__", "status", "last_inbound_at", "last_delivery_at", "last_error_at"]
    list_filter = ["provider", "status", "is_sandbox"]
    fields = ["name", "provider", "is_sandbox", "status", "public_id", "webhook_url",
              "last_inbound_at", "last_delivery_at", "last_error", "last_error_at", "created_at"]
    readonly_fields = ["provider", "is_sandbox", "status", "public_id", "webhook_url",
                       "last_inbound_at", "last_delivery_at", "last_error", "last_error_at",
                       "created_at"]
    inlines = [StageMappingInline]

    @admin.display(description="Webhook URL to give the ATS")
    def webhook_url(self, obj):
        if obj.pk is None or obj.provider != "lever":
            return "—"
        return lever_connect.webhook_url(obj)

    def has_add_permission(self, request):
        return False

    def changelist_view(self, request, extra_context=None):
        extra = {"can_connect": self._can_write(request) and request.org is not None,
                 "sandbox_available": lever_connect.sandbox_available(),
                 "production_configured": lever_connect.production_configured()}
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra = self.lever_panel(request, obj) if obj and obj.provider == "lever" else {}
        return super().change_view(request, object_id, form_url,
                                   {**(extra_context or {}), **extra})

    def lever_panel(self, request, connection) -> dict:
        connected = lever_connect.is_connected(connection)
        people, users_error = [], ""
        if connected:
            try:
                people = lever_connect.users(connection)
            except ProviderError as exc:
                users_error = str(exc)
        perform_as = connection.config.get("perform_as") or ""
        last_event = connection.inbound_events.order_by("-received_at").first()
        return {
            "lever_panel": True,
            "can_manage": self._can_write(request) and request.org is not None,
            "connected": connected,
            "manual_step": lever_connect.MANUAL_STEP,
            "hook_url": lever_connect.webhook_url(connection),
            "webhook_registered": bool(connection.webhook_secret),
            "fake_url": connection.config.get("fake_url", "") if connection.is_sandbox else "",
            "perform_as_form": PerformAsForm(users=people, initial={"perform_as": perform_as}),
            "perform_as_name": next((u["name"] for u in people if u["id"] == perform_as),
                                    perform_as),
            "users_error": users_error,
            "last_event": last_event,
            "site_url": settings.SITE_URL,
        }

    def delete_model(self, request, obj):
        if obj.provider == "lever" and obj.credentials:
            lever_connect.disconnect(obj)  # best effort: remove our webhook from Lever first
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

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
