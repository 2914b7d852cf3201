from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .admin_base import ManagerOnlyAdmin, OrgScopedAdmin, ReadOnlyMixin, role_of
from .models import MANAGER_ROLES, ApiKey, AuditLog, Membership, Organization, User, audit


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Platform superusers only: org admins manage people through Memberships."""

    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_superuser", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        ("Permissions", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",),
                             "fields": ("email", "password1", "password2")}),)

    def has_module_permission(self, request):
        return request.user.is_superuser

    has_view_permission = has_add_permission = has_change_permission = (
        lambda self, request, obj=None: request.user.is_superuser)
    has_delete_permission = has_change_permission


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "plan", "retention_days", "created_at"]
    search_fields = ["name", "slug"]
    readonly_fields = ["created_at"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(pk__in=[m.org_id for m in getattr(request, "memberships", [])])

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return self.readonly_fields
        return [*self.readonly_fields, "slug", "plan", "monthly_invitation_quota"]

    def has_module_permission(self, request):
        return request.user.is_superuser or bool(getattr(request, "memberships", None))

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        if request.user.is_superuser:
            return True
        if obj is None:
            return role_of(request) in MANAGER_ROLES
        return any(m.org_id == obj.pk and m.role in MANAGER_ROLES
                   for m in getattr(request, "memberships", []))

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


class MembershipForm(forms.ModelForm):
    email = forms.EmailField(help_text="An existing user is added; a new one is created.")
    password = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False),
        help_text="Initial password for a new user (they can change it after signing in).")

    class Meta:
        model = Membership
        fields = ["role"]


@admin.register(Membership)
class MembershipAdmin(ManagerOnlyAdmin):
    list_display = ["user", "role", "created_at"]
    list_filter = ["role"]
    search_fields = ["user__email"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = MembershipForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return ["user"] if obj else []

    def save_model(self, request, obj, form, change):
        if not change:
            email = form.cleaned_data["email"].lower()
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(email, form.cleaned_data.get("password") or None)
            if not user.is_staff:
                user.is_staff = True
                user.save(update_fields=["is_staff"])
            obj.user = user
        super().save_model(request, obj, form, change)
        audit(obj.org, "membership.saved", actor=request.user, target=str(obj.user),
              role=obj.role)


@admin.register(ApiKey)
class ApiKeyAdmin(ManagerOnlyAdmin):
    list_display = ["name", "prefix", "is_sandbox", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["is_sandbox"]
    fields = ["name", "is_sandbox"]
    actions = ["revoke"]

    def has_change_permission(self, request, obj=None):
        return False if obj is not None else super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        org = obj.org if request.user.is_superuser and obj.org_id else request.org
        key, raw = ApiKey.issue(org, name=obj.name, sandbox=obj.is_sandbox,
                                created_by=request.user)
        obj.pk, obj.prefix, obj.org = key.pk, key.prefix, org
        audit(org, "api_key.created", actor=request.user, target=key.prefix)
        messages.warning(request, f"New API key (shown once, copy it now): {raw}")

    @admin.action(description="Revoke selected keys")
    def revoke(self, request, queryset):
        for key in queryset.filter(revoked_at__isnull=True):
            key.revoke()
            audit(key.org, "api_key.revoked", actor=request.user, target=key.prefix)


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyMixin, OrgScopedAdmin):
    list_display = ["created_at", "actor", "action", "target"]
    list_filter = ["action"]
    readonly_fields = ["created_at", "actor", "action", "target", "data"]
