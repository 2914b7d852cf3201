"""The test catalog as loaded into the database (shared by every org, so not tenant-owned), and
the tenant-owned candidates, invitations, attempts, responses and results."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from tenants.models import TenantModel


class Evidence(models.TextChoices):
    VALIDATED = "validated", "Validated"
    PROXY = "proxy", "Proxy"
    EXPERIMENTAL = "experimental", "Experimental"


HIRE_ELIGIBLE = (Evidence.VALIDATED, Evidence.PROXY)


class CatalogTestQuerySet(models.QuerySet):
    def current(self):
        return self.filter(is_current=True)

    def hire_eligible(self):
        return self.filter(evidence__in=HIRE_ELIGIBLE)


class CatalogTest(models.Model):
    """One version of one catalog test. Versions are never deleted: results point at them."""

    slug = models.SlugField(max_length=100)
    version = models.CharField(max_length=100)
    name = models.CharField(max_length=200)
    construct = models.CharField(max_length=300, blank=True)
    evidence = models.CharField(max_length=20, choices=Evidence.choices)
    estimated_minutes = models.PositiveIntegerField(null=True, blank=True)
    time_limit_seconds = models.PositiveIntegerField(null=True, blank=True)
    item_count = models.PositiveIntegerField()
    definition = models.JSONField(help_text="The catalog file as loaded (items, keys, norms).")
    content_hash = models.CharField(max_length=64)
    is_current = models.BooleanField(default=True, help_text="The version new invitations use.")
    loaded_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True,
                                      help_text="Set when the file left the catalog.")

    objects = CatalogTestQuerySet.as_manager()

    class Meta:
        ordering = ["name", "-loaded_at"]
        constraints = [
            models.UniqueConstraint(fields=["slug", "version"], name="catalogtest_slug_version"),
            models.UniqueConstraint(fields=["slug"], condition=models.Q(is_current=True),
                                    name="catalogtest_one_current"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.version})"

    @property
    def hire_eligible(self) -> bool:
        return self.evidence in HIRE_ELIGIBLE


class TestPackage(TenantModel):
    """An org's named, ordered set of catalog tests, offered to every ATS as one test.

    ATSes see it next to the single tests with the id `package:<slug>` (assessments.packages);
    Workable allows one test per job, so a package is how a job there gets several.
    """

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60,
                            help_text="Part of the id the ATSes see: package:<slug>.")
    description = models.CharField(max_length=300, blank=True)
    tests = models.JSONField(default=list, help_text="Ordered catalog test slugs.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "slug"], name="testpackage_slug")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# --- Candidates, invitations, attempts, results (issue 3) --------------------------------------
# Every row below is tenant-owned (TenantModel: `org` + forced row-level security). Nothing here
# knows which ATS a candidate came from beyond `Invitation.source` and the opaque `source_ref`.


class Candidate(TenantModel):
    """A person invited by one org; the same email in one org is one candidate."""

    email = models.EmailField()
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    external_id = models.CharField(max_length=200, blank=True,
                                   help_text="The caller's or the ATS's id for this person.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["org", "email"], name="candidate_org_email")]

    def __str__(self) -> str:
        name = f"{self.first_name} {self.last_name}".strip()
        return f"{name} <{self.email}>" if name else self.email

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email


class Source(models.TextChoices):
    LEVER = "lever", "Lever"
    GREENHOUSE = "greenhouse", "Greenhouse"
    ASHBY = "ashby", "Ashby"
    WORKABLE = "workable", "Workable"
    API = "api", "API"
    MANUAL = "manual", "Manual"


class InvitationStatus(models.TextChoices):
    CREATED = "created", "Created"
    SENT = "sent", "Sent"
    OPENED = "opened", "Opened"
    STARTED = "started", "Started"
    COMPLETED = "completed", "Completed"
    EXPIRED = "expired", "Expired"
    CANCELLED = "cancelled", "Cancelled"
    DELIVERY_FAILED = "delivery_failed", "Delivery failed"


# Statuses in which the candidate link works and the invitation can still change.
OPEN_STATUSES = (InvitationStatus.CREATED, InvitationStatus.SENT, InvitationStatus.OPENED,
                 InvitationStatus.STARTED, InvitationStatus.DELIVERY_FAILED)
FINAL_STATUSES = (InvitationStatus.COMPLETED, InvitationStatus.EXPIRED,
                  InvitationStatus.CANCELLED)
EXTRA_TIME_CHOICES = [(0, "None"), (25, "+25 %"), (50, "+50 %")]


class Invitation(TenantModel):
    """One candidate asked to take an ordered list of tests, from any source.

    The candidate link carries a random token (>= 128 bits) of which only the SHA-256 is stored:
    `token_hash` for the link in the invitation email (replaced by a resend), and
    `reminder_token_hash` for the link in the reminder email (so the first link keeps working).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    candidate = models.ForeignKey(Candidate, on_delete=models.CASCADE,
                                  related_name="invitations")
    source = models.CharField(max_length=20, choices=Source.choices)
    source_ref = models.JSONField(default=dict, blank=True,
                                  help_text="The source's references (opportunity, application, "
                                            "callback URL ...), opaque to everything else.")
    external_id = models.CharField(max_length=200, blank=True,
                                   help_text="The API caller's id for this invitation.")
    sandbox = models.BooleanField(default=False)
    locale = models.CharField(max_length=10, default="en")
    status = models.CharField(max_length=20, choices=InvitationStatus.choices,
                              default=InvitationStatus.CREATED)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    expired_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    delivery_failed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    reminder_token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True,
                                           editable=False)
    extra_time_percent = models.PositiveSmallIntegerField(choices=EXTRA_TIME_CHOICES, default=0)
    redirect_url = models.URLField(max_length=500, blank=True)
    consented_at = models.DateTimeField(null=True, blank=True)
    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    last_email_error = models.TextField(blank=True)
    verdict = models.CharField(max_length=10, blank=True,
                               choices=[("up", "Thumbs up"), ("down", "Thumbs down")],
                               help_text="The recruiter's decision; sent back to the ATS.")
    verdict_at = models.DateTimeField(null=True, blank=True)
    verdict_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [
            models.Index(fields=["org", "-created_at"], name="invitation_org_created"),
            models.Index(fields=["org", "status", "expires_at"], name="invitation_org_status"),
            models.Index(fields=["org", "external_id"], name="invitation_org_external"),
        ]

    def __str__(self) -> str:
        return f"{self.candidate} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def is_past_expiry(self, now=None) -> bool:
        return (now or timezone.now()) >= self.expires_at


class InvitationTest(TenantModel):
    """One test of an invitation, in order, pinned to the exact catalog version."""

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="tests")
    catalog_test = models.ForeignKey(CatalogTest, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["invitation", "position"],
                                               name="invitationtest_position")]
        indexes = [models.Index(fields=["org", "invitation"], name="invitationtest_org_inv")]

    def __str__(self) -> str:
        return f"{self.position}. {self.catalog_test.name}"


class AttemptStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    IN_PROGRESS = "in_progress", "In progress"
    COMPLETED = "completed", "Completed"
    TIMED_OUT = "timed_out", "Timed out"


class Attempt(TenantModel):
    """The candidate's work on one invitation test; the deadline is the server's."""

    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="attempts")
    invitation_test = models.OneToOneField(InvitationTest, on_delete=models.CASCADE,
                                           related_name="attempt")
    status = models.CharField(max_length=20, choices=AttemptStatus.choices,
                              default=AttemptStatus.PENDING)
    started_at = models.DateTimeField(null=True, blank=True)
    deadline_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["org", "invitation"], name="attempt_org_invitation"),
            models.Index(fields=["org", "status", "deadline_at"], name="attempt_org_deadline"),
        ]

    def __str__(self) -> str:
        return f"{self.invitation_test} ({self.get_status_display()})"

    @property
    def is_closed(self) -> bool:
        return self.status in (AttemptStatus.COMPLETED, AttemptStatus.TIMED_OUT)


class Response(TenantModel):
    """One answer, saved as it is given (upserted per item)."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="responses")
    item_id = models.CharField(max_length=50)
    value = models.CharField(max_length=20)
    answered_at = models.DateTimeField(default=timezone.now)
    seconds = models.FloatField(default=0.0, help_text="Time on the item as the client reported "
                                                       "it (or the server estimated it).")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["attempt", "item_id"],
                                               name="response_once_per_item")]
        indexes = [models.Index(fields=["org", "attempt"], name="response_org_attempt")]

    def __str__(self) -> str:
        return f"{self.item_id}={self.value}"


class Result(TenantModel):
    """The scored attempt: the v1 envelope (DESIGN §3.5), written once at completion."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    invitation = models.ForeignKey(Invitation, on_delete=models.CASCADE, related_name="results")
    attempt = models.OneToOneField(Attempt, on_delete=models.CASCADE, related_name="result")
    catalog_test = models.ForeignKey(CatalogTest, on_delete=models.PROTECT, related_name="+")
    envelope = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["org", "-created_at"], name="result_org_created"),
                   models.Index(fields=["org", "invitation"], name="result_org_invitation")]

    def __str__(self) -> str:
        return f"{self.catalog_test.name}: {self.invitation.candidate}"
