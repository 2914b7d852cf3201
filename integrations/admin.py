"""The console's integrations pages: connections (Lever's OAuth panel; the partner ATSes' keys,
credentials and status), stage mappings, inbound events, deliveries, partner-started assessments.

Partner connections (Greenhouse, Ashby, Workable) are added with our own form rather than the
model form: saving one issues the partner key and shows it once, on a page of its own that is
never cached (nothing keeps the raw key). Only owners and admins change anything, by POST with
CSRF; everyone else in the org sees the same pages read-only. Every key issued, rotated or
revoked and every credential replaced is audit-logged.
"""

import logging

from django.conf import settings
from django.contrib import admin, messages
from django.db import transaction
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from tenants.admin_base import ManagerOnlyAdmin, OrgScopedAdmin, ReadOnlyMixin, role_of
from tenants.models import MANAGER_ROLES, audit

from . import partner_keys, registry
from .base import PARTNER_API, STAGE_MAPPINGS
from .errors import ProviderError
from .forms import (
    OVERLAP_CHOICES,
    OVERLAPS,
    CredentialForm,
    LiveLists,
    PartnerConnectionForm,
    PerformAsForm,
    RotateKeyForm,
    StageMappingForm,
    partner_providers,
    test_choices,
)
from .models import (
    Connection,
    ConnectionStatus,
    Delivery,
    ExternalAssessment,
    InboundEvent,
    PartnerKey,
    StageMapping,
)
from .providers.lever import connect as lever_connect

log = logging.getLogger("integrations.console")

SANDBOX_BADGE = "integrations/sandbox_badge.html"
RECENT = 10  # partner calls and deliveries listed on a connection page

# How each scheme carries the key (partner_keys.presented_keys), in words for the admin.
KEY_HOW = {
    "basic-username": "as the username of HTTP Basic authentication, with an empty password",
    "basic-either": "in HTTP Basic authentication (as the username with an empty password; "
                    "Assay also accepts it as the password)",
    "bearer": "as a Bearer token (Authorization: Bearer <key>)",
}
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


def partner_class(connection):
    """The adapter class when the ATS calls us with a partner key (Greenhouse, Ashby, Workable)."""
    cls = registry.installed_class(connection.provider)
    return cls if cls is not None and PARTNER_API in cls.features else None


def key_state(key: PartnerKey, now) -> str:
    if key.revoked_at:
        return "revoked"
    if key.expires_at and key.expires_at <= now:
        return "expired"
    return "retiring" if key.expires_at else "active"


@admin.register(Connection)
class ConnectionAdmin(ManagerOnlyAdmin):
    """Lever connects with "Connect Lever" (OAuth); Greenhouse, Ashby and Workable with our add
    form, which issues the partner key. The change page shows the provider's panel: Lever's live
    status, manual step and perform_as with the mappings; a partner's endpoint URLs, keys,
    credential and recent calls and deliveries."""

    change_form_template = "integrations/connection_change_form.html"
    change_list_template = "integrations/connection_change_list.html"
    list_display = ["display_name", "provider", "environment", "status", "last_inbound_at",
                    "last_delivery_at", "last_error_at"]
    list_filter = ["provider", "status", "is_sandbox"]
    fields = ["name", "provider", "is_sandbox", "status", "public_id", "webhook_url",
              "last_inbound_at", "last_delivery_at", "last_error", "last_error_at", "created_at"]
    partner_fields = ["name", "provider", "environment", "status", "public_id", "created_at"]
    readonly_fields = ["provider", "is_sandbox", "environment", "status", "public_id",
                       "webhook_url", "last_inbound_at", "last_delivery_at", "last_error",
                       "last_error_at", "created_at"]
    inlines = [StageMappingInline]

    @admin.display(description="Connection", ordering="name")
    def display_name(self, obj):
        return obj.name or str(obj)

    @admin.display(description="Environment", ordering="is_sandbox")
    def environment(self, obj):
        return render_to_string(SANDBOX_BADGE) if obj.is_sandbox else "production"

    @admin.display(description="Webhook URL to give the ATS")
    def webhook_url(self, obj):
        if obj.pk is None or obj.provider != "lever":
            return "—"
        return lever_connect.webhook_url(obj)

    def get_fields(self, request, obj=None):
        if obj is not None and partner_class(obj) is not None:
            return self.partner_fields
        return super().get_fields(request, obj)

    def get_inlines(self, request, obj):
        cls = registry.installed_class(obj.provider) if obj is not None else None
        return self.inlines if cls is not None and STAGE_MAPPINGS in cls.features else []

    def has_add_permission(self, request):
        return self._can_write(request)

    def get_urls(self):
        def view(func):
            return self.admin_site.admin_view(func)

        return [
            path("add/", view(self.add_partner_view), name="integrations_connection_add"),
            path("<path:object_id>/partner/rotate/", view(require_POST(self.rotate_key_view)),
                 name="integrations_connection_rotate_key"),
            path("<path:object_id>/partner/revoke/<int:key_id>/",
                 view(require_POST(self.revoke_key_view)),
                 name="integrations_connection_revoke_key"),
            path("<path:object_id>/partner/credential/",
                 view(require_POST(self.credential_view)),
                 name="integrations_connection_credential"),
        ] + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        can_connect = self._can_write(request) and request.org is not None
        extra = {"can_connect": can_connect,
                 "partner_providers": partner_providers() if can_connect else [],
                 "sandbox_available": lever_connect.sandbox_available(),
                 "production_configured": lever_connect.production_configured()}
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        extra = {}
        if obj is not None and obj.provider == "lever":
            extra = self.lever_panel(request, obj)
        elif obj is not None and partner_class(obj) is not None:
            extra = self.partner_panel(request, obj)
        return super().change_view(request, object_id, form_url,
                                   {**(extra_context or {}), **extra})

    # -- Lever ----------------------------------------------------------------------------------

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

    # -- partner ATSes: the panel ---------------------------------------------------------------

    def partner_panel(self, request, connection) -> dict:
        cls = partner_class(connection)
        adapter = cls(connection)
        now = timezone.now()
        keys = list(connection.partner_keys.select_related("created_by")
                    .order_by("-created_at")[:20])
        for key in keys:
            key.state = key_state(key, now)
        label = cls.outbound_credential or ""
        return {
            "partner_panel": True,
            "ats": cls.name,
            "can_manage": self._can_write(request),
            **self.instructions(connection),
            "keys": keys,
            "usable_keys": sum(1 for k in keys if k.state in ("active", "retiring")),
            "rotate_form": RotateKeyForm(),
            "credential_label": label,
            "credential_help": cls.outbound_credential_help,
            "credential_set": bool(adapter.credential()) if label else None,
            "credential_form": CredentialForm(label=label) if label else None,
            "calls": connection.inbound_events.order_by("-received_at")[:RECENT],
            "deliveries": connection.deliveries.order_by("-created_at")[:RECENT],
            "fake_url": connection.config.get("fake_url", "") if connection.is_sandbox else "",
        }

    def instructions(self, connection) -> dict:
        """What to hand to the ATS: the endpoint URLs, how it sends the key, where to paste."""
        cls = partner_class(connection)
        adapter = cls(connection)
        return {"endpoints": adapter.endpoint_urls(),
                "key_how": KEY_HOW.get(cls.inbound_auth or "", ""),
                "where": adapter.setup_help}

    # -- partner ATSes: add, rotate, revoke, replace the credential -----------------------------

    def add_partner_view(self, request):
        from .views import problem

        if not self.has_add_permission(request):
            return problem(request, 403, "Only owners and admins can add ATS connections",
                           "Ask an owner or admin of your organization to do this.")
        if request.org is None:
            messages.error(request, "Choose an organization first (Switch organization).")
            return redirect("admin:integrations_connection_changelist")
        form = PartnerConnectionForm(request.POST or None, org=request.org,
                                     initial={"provider": request.GET.get("provider", "")})
        if request.method == "POST" and form.is_valid():
            connection, raw = self.create_partner(request, form)
            return self.show_key(request, connection, raw, created=True)
        context = {**self.admin_site.each_context(request), "form": form,
                   "opts": self.model._meta, "title": "Connect an ATS",
                   "providers": partner_providers(),
                   "needs": [(name, registry.adapter_class(key).outbound_credential
                              or "nothing more") for key, name in partner_providers()]}
        return TemplateResponse(request, "integrations/partner_add.html", context,
                                status=400 if request.method == "POST" else 200)

    def create_partner(self, request, form) -> tuple[Connection, str]:
        data = form.cleaned_data
        with transaction.atomic():
            connection = Connection(org=request.org, provider=data["provider"],
                                    name=data["name"], is_sandbox=data["is_sandbox"],
                                    status=ConnectionStatus.ACTIVE)
            if data["credential"]:
                registry.adapter(connection).set_credential(data["credential"])
            connection.save()
            audit(connection.org, "connection.created", actor=request.user,
                  target=str(connection.public_id), provider=connection.provider,
                  sandbox=connection.is_sandbox, credential_set=bool(data["credential"]))
            raw = self.issue_key(request, connection, overlap="now")
        log.info("integrations.console.connection_created connection=%s provider=%s "
                 "sandbox=%s user=%s", connection.public_id, connection.provider,
                 connection.is_sandbox, request.user.pk)
        return connection, raw

    def issue_key(self, request, connection, *, overlap: str) -> str:
        """Issue a key (older ones keep working for `overlap`), audit-logged; return it."""
        with transaction.atomic():
            raw = partner_keys.issue(connection, overlap=OVERLAPS[overlap], by=request.user)
            key = PartnerKey.objects.get(key_hash=partner_keys.hash_key(raw))
            audit(connection.org, "partner_key.issued", actor=request.user, target=key.prefix,
                  connection=str(connection.public_id), provider=connection.provider,
                  overlap=overlap)
        log.info("integrations.console.key_issued connection=%s key=%s overlap=%s user=%s",
                 connection.public_id, key.prefix, overlap, request.user.pk)
        return raw

    def show_key(self, request, connection, raw: str, *, created: bool = False,
                 overlap: str = "") -> TemplateResponse:
        """The one page that shows a raw key: rendered in the POST's answer, never stored or
        cached, so reloading it cannot show the key again."""
        cls = partner_class(connection)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta,
                   "title": f"{cls.name} key for {connection.name} — shown once",
                   "connection": connection, "ats": cls.name, "raw_key": raw,
                   "created": created, "overlap": dict(OVERLAP_CHOICES).get(overlap, ""),
                   "credential_label": cls.outbound_credential or "",
                   "credential_missing": bool(cls.outbound_credential)
                   and not registry.adapter(connection).credential(),
                   "change_url": reverse("admin:integrations_connection_change",
                                         args=[connection.pk]),
                   **self.instructions(connection)}
        response = TemplateResponse(request, "integrations/partner_key_once.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def partner_for_change(self, request, object_id):
        """(connection, None) when the user may change this partner connection, else
        (None, the refusal page)."""
        from .views import problem

        if not self._can_write(request):
            return None, problem(request, 403, "Only owners and admins can change ATS "
                                               "connections",
                                 "Ask an owner or admin of your organization to do this.")
        connection = self.get_object(request, object_id)
        if connection is None or partner_class(connection) is None:
            return None, problem(request, 404, "No such connection",
                                 "This organization has no partner ATS connection with that id.")
        return connection, None

    def rotate_key_view(self, request, object_id):
        connection, refusal = self.partner_for_change(request, object_id)
        if refusal:
            return refusal
        form = RotateKeyForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose how long the keys issued before keep working.")
            return redirect("admin:integrations_connection_change", connection.pk)
        overlap = form.cleaned_data["overlap"]
        raw = self.issue_key(request, connection, overlap=overlap)
        return self.show_key(request, connection, raw, overlap=overlap)

    def revoke_key_view(self, request, object_id, key_id):
        connection, refusal = self.partner_for_change(request, object_id)
        if refusal:
            return refusal
        key = PartnerKey.objects.filter(pk=key_id, connection=connection).first()
        if key is None:
            messages.error(request, "That key does not belong to this connection.")
        elif key.revoked_at is not None:
            messages.info(request, f"Key {key} was already revoked.")
        else:
            partner_keys.revoke(key)
            audit(connection.org, "partner_key.revoked", actor=request.user, target=key.prefix,
                  connection=str(connection.public_id), provider=connection.provider)
            log.info("integrations.console.key_revoked connection=%s key=%s user=%s",
                     connection.public_id, key.prefix, request.user.pk)
            messages.success(request, f"Key {key} is revoked: calls with it are refused now.")
            now = timezone.now()
            if not any(k.is_usable(now) for k in connection.partner_keys.all()):
                messages.warning(request, f"No usable key is left: every call from "
                                          f"{partner_class(connection).name} is refused until "
                                          "you issue a new key (Rotate key).")
        return redirect("admin:integrations_connection_change", connection.pk)

    def credential_view(self, request, object_id):
        connection, refusal = self.partner_for_change(request, object_id)
        if refusal:
            return refusal
        cls = partner_class(connection)
        if not cls.outbound_credential:
            messages.error(request, f"{cls.name} needs no credential from you.")
            return redirect("admin:integrations_connection_change", connection.pk)
        form = CredentialForm(request.POST, label=cls.outbound_credential)
        if not form.is_valid():
            messages.error(request, f"Enter the new {cls.outbound_credential}; nothing was "
                                    "changed.")
            return redirect("admin:integrations_connection_change", connection.pk)
        registry.adapter(connection).set_credential(form.cleaned_data["credential"])
        fields = ["credentials"]
        if connection.status == ConnectionStatus.NEEDS_RECONNECT:
            connection.status = ConnectionStatus.ACTIVE  # the refused credential is replaced
            fields.append("status")
        connection.save(update_fields=fields)
        audit(connection.org, "connection.credential_replaced", actor=request.user,
              target=str(connection.public_id), provider=connection.provider)
        log.info("integrations.console.credential_replaced connection=%s user=%s",
                 connection.public_id, request.user.pk)
        messages.success(request, f"The {cls.outbound_credential} is replaced. It is stored "
                                  "encrypted and never shown.")
        return redirect("admin:integrations_connection_change", connection.pk)

    # -- both -----------------------------------------------------------------------------------

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


@admin.register(ExternalAssessment)
class ExternalAssessmentAdmin(ReadOnlyMixin, OrgScopedAdmin):
    """Assessments an ATS started through its partner API, for support: which ATS, which test
    or package, and where the invitation is."""

    list_display = ["created_at", "provider", "connection", "offering", "candidate",
                    "invitation_status"]
    list_filter = ["connection__provider", "created_at"]
    search_fields = ["public_id", "offering_id", "offering_name", "invitation__public_id",
                     "invitation__candidate__email"]
    list_select_related = ["connection", "invitation__candidate"]
    fields = ["public_id", "connection", "provider", "offering", "invitation_link",
              "invitation_status", "idempotency_key", "created_at"]
    readonly_fields = fields

    @admin.display(description="ATS", ordering="connection__provider")
    def provider(self, obj):
        return obj.connection.get_provider_display()

    @admin.display(description="Test or package", ordering="offering_id")
    def offering(self, obj):
        return (f"{obj.offering_name} ({obj.offering_id})" if obj.offering_name
                else obj.offering_id)

    @admin.display(description="Candidate")
    def candidate(self, obj):
        return obj.invitation.candidate

    @admin.display(description="Invitation status", ordering="invitation__status")
    def invitation_status(self, obj):
        return obj.invitation.get_status_display()

    @admin.display(description="Invitation")
    def invitation_link(self, obj):
        url = reverse("admin:assessments_invitation_change", args=[obj.invitation_id])
        return format_html('<a href="{}">{}</a>', url, obj.invitation.public_id)
