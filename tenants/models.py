"""Organizations (tenants), who belongs to them, API keys and the audit log."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.db import models
from django.utils import timezone


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create(self, email, password, **extra):
        if not email:
            raise ValueError("an email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra):
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True)
        return self._create(email, password, **extra)


class User(AbstractUser):
    """A person who signs in to the console; identified by email, may belong to several orgs."""

    username = None
    email = models.EmailField("email address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []
    objects = UserManager()

    def __str__(self) -> str:
        return self.email


class Plan(models.TextChoices):
    FREE = "free", "Free"
    BUSINESS = "business", "Business"
    ENTERPRISE = "enterprise", "Enterprise"


PLAN_QUOTAS = {Plan.FREE: 5, Plan.BUSINESS: 500, Plan.ENTERPRISE: None}


class Organization(models.Model):
    """A customer. Not itself row-level-secured: it is the registry the policies point at."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    plan = models.CharField(max_length=20, choices=Plan.choices, default=Plan.FREE)
    monthly_invitation_quota = models.PositiveIntegerField(
        null=True, blank=True, help_text="Overrides the plan's quota of production invitations.")
    retention_days = models.PositiveIntegerField(
        null=True, blank=True,
        help_text="Days to keep candidate data; empty means the platform default.")
    contact_email = models.EmailField(blank=True, help_text="Shown to candidates for questions.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def effective_retention_days(self) -> int:
        return self.retention_days or settings.DATA_RETENTION_DAYS

    @property
    def invitation_quota(self) -> int | None:
        if self.monthly_invitation_quota is not None:
            return self.monthly_invitation_quota
        return PLAN_QUOTAS[Plan(self.plan)]


class TenantModel(models.Model):
    """Base for every tenant-owned table: adds `org` and gets forced row-level security.

    Declare new tenant tables by subclassing this; tenants/rls.py does the rest after migrate.
    Indexes of subclasses should lead with `org`.
    """

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")

    rls_extra_using: str | None = None

    class Meta:
        abstract = True


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    RECRUITER = "recruiter", "Recruiter"
    VIEWER = "viewer", "Viewer"


MANAGER_ROLES = {Role.OWNER, Role.ADMIN}


class Membership(TenantModel):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.RECRUITER)
    created_at = models.DateTimeField(default=timezone.now)

    # A user sees their own memberships before choosing an org (org switcher, sign-in).
    rls_extra_using = "user_id = {current_user}"

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "user"], name="membership_once")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}) in {self.org}"

    @property
    def can_manage(self) -> bool:
        return self.role in MANAGER_ROLES


API_KEY_BYTES = 32


def hash_secret(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiKey(TenantModel):
    """A REST API key: shown once, stored as SHA-256, scoped to one org, revocable."""

    name = models.CharField(max_length=100, default="default")
    prefix = models.CharField(max_length=32, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    is_sandbox = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["org", "created_at"], name="apikey_org_created")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, org, *, name="default", sandbox=False, created_by=None) -> tuple[ApiKey, str]:
        """Create a key and return it with the raw secret, which is never stored."""
        kind = "test" if sandbox else "live"
        raw = f"assay_{kind}_{secrets.token_urlsafe(API_KEY_BYTES)}"
        key = cls.objects.create(org=org, name=name, is_sandbox=sandbox, created_by=created_by,
                                 prefix=raw[:19], key_hash=hash_secret(raw))
        return key, raw

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self) -> None:
        self.revoked_at = timezone.now()
        self.save(update_fields=["revoked_at"])


class AuditLog(TenantModel):
    """Who did what to which record; written for exports, erasures, key and member changes."""

    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=100)
    target = models.CharField(max_length=200, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["org", "-created_at"], name="audit_org_created")]

    def __str__(self) -> str:
        return f"{self.action} {self.target}"


def audit(org, action: str, *, actor=None, target: str = "", **data) -> AuditLog:
    return AuditLog.objects.create(org=org, actor=actor, action=action, target=target, data=data)
