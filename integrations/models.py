"""What ties an org to an ATS, what the ATS sent us, and what we owe it (the outbox).

Nothing here knows an ATS's field names: provider-specific settings live in `Connection.config`
and are read only by `integrations/providers/<key>/`.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone

from tenants.crypto import EncryptedTextField
from tenants.models import TenantModel


class Provider(models.TextChoices):
    LEVER = "lever", "Lever"
    GREENHOUSE = "greenhouse", "Greenhouse"
    ASHBY = "ashby", "Ashby"
    WORKABLE = "workable", "Workable"


class ConnectionStatus(models.TextChoices):
    PENDING = "pending", "Pending set-up"
    ACTIVE = "active", "Active"
    NEEDS_RECONNECT = "needs_reconnect", "Needs reconnect"
    DISCONNECTED = "disconnected", "Disconnected"


class Connection(TenantModel):
    """One org's link to one ATS account (production or sandbox)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    provider = models.CharField(max_length=20, choices=Provider.choices)
    name = models.CharField(max_length=100, default="")
    is_sandbox = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=ConnectionStatus.choices,
                              default=ConnectionStatus.PENDING)
    external_account_id = models.CharField(max_length=200, blank=True)
    # Secrets at rest: OAuth tokens or the key we present to the ATS (JSON text), and the secret
    # the ATS signs its webhooks with.
    credentials = EncryptedTextField(blank=True, default="")
    webhook_secret = EncryptedTextField(blank=True, default="")
    config = models.JSONField(default=dict, blank=True)
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    last_delivery_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["org", "provider"], name="connection_org_provider")]

    def __str__(self) -> str:
        kind = "sandbox" if self.is_sandbox else "production"
        return f"{self.get_provider_display()} ({kind}) {self.name}".strip()

    # "Last call received" is status for a person, not an audit trail: writing it on every
    # webhook or partner call would make every call of a connection queue on one row lock.
    LAST_INBOUND_EVERY = timedelta(seconds=30)

    def note_inbound(self) -> None:
        """Record that the ATS called us (at most once per LAST_INBOUND_EVERY)."""
        now = timezone.now()
        if self.last_inbound_at is None or now - self.last_inbound_at > self.LAST_INBOUND_EVERY:
            Connection.objects.filter(pk=self.pk).update(last_inbound_at=now)
            self.last_inbound_at = now

    def record_error(self, message: str) -> None:
        self.last_error, self.last_error_at = message[:2000], timezone.now()
        self.save(update_fields=["last_error", "last_error_at"])


class StageMapping(TenantModel):
    """ "Candidates entering this stage (optionally of this posting) take these tests"."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE,
                                   related_name="stage_mappings")
    stage_id = models.CharField(max_length=200)
    stage_name = models.CharField(max_length=200, blank=True)
    posting_id = models.CharField(max_length=200, blank=True,
                                  help_text="Empty: every posting.")
    posting_name = models.CharField(max_length=200, blank=True)
    tests = models.JSONField(default=list, help_text="Ordered catalog test slugs.")
    expires_in_days = models.PositiveSmallIntegerField(default=14)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "stage_id", "posting_id"],
                                               name="stage_mapping_once")]
        indexes = [models.Index(fields=["org", "connection", "stage_id"], name="mapping_lookup")]

    def __str__(self) -> str:
        where = f" / {self.posting_name or self.posting_id}" if self.posting_id else ""
        return f"{self.stage_name or self.stage_id}{where} → {', '.join(self.tests)}"


class InboundStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSED = "processed", "Processed"
    IGNORED = "ignored", "Ignored"
    FAILED = "failed", "Failed"


class InboundEvent(TenantModel):
    """A webhook or partner call exactly as received, stored before it is answered."""

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE,
                                   related_name="inbound_events")
    event_type = models.CharField(max_length=100)
    dedupe_key = models.CharField(max_length=200, help_text="The ATS's delivery id (Lever: token).")
    body = models.TextField()
    received_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=20, choices=InboundStatus.choices,
                              default=InboundStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.TextField(blank=True, help_text="What processing did, or why it did not.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "dedupe_key"],
                                               name="inbound_event_once")]
        indexes = [models.Index(fields=["org", "status", "next_attempt_at"],
                                name="inbound_due")]

    def __str__(self) -> str:
        return f"{self.event_type} {self.dedupe_key}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class Delivery(TenantModel):
    """Something we owe an ATS or a webhook endpoint: written in the transaction that caused it.

    `key` makes the write idempotent (e.g. "result:<result id>:lever:<connection id>"); workers
    deliver with retries, every try recorded in DeliveryAttempt.
    """

    connection = models.ForeignKey(Connection, null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="deliveries")
    kind = models.CharField(max_length=50)
    key = models.CharField(max_length=300)
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=DeliveryStatus.choices,
                              default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "key"], name="delivery_once")]
        indexes = [models.Index(fields=["org", "status", "next_attempt_at"], name="delivery_due")]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.kind} {self.key} ({self.status})"


class DeliveryAttempt(TenantModel):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="tries")
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)
    ok = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["org", "delivery", "started_at"],
                                name="attempt_by_delivery")]


class PartnerKey(TenantModel):
    """A key an ATS presents to us (Greenhouse/Ashby Basic, Workable Bearer), stored as SHA-256.

    Shown once when issued. Rotating issues a new key and lets the old ones work until
    `expires_at` (the overlap window), so the customer can change it in the ATS without downtime.
    """

    connection = models.ForeignKey(Connection, on_delete=models.CASCADE,
                                   related_name="partner_keys")
    prefix = models.CharField(max_length=20, help_text="The first characters, to tell keys apart.")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    expires_at = models.DateTimeField(null=True, blank=True,
                                      help_text="Set when a newer key replaced this one.")
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["org", "connection"], name="partnerkey_connection")]

    def __str__(self) -> str:
        return f"{self.prefix}…"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class ExternalAssessment(TenantModel):
    """One assessment an ATS asked for through its partner API, and the invitation that serves it.

    `idempotency_key` is the ATS's natural key (Greenhouse application+test, Ashby
    application+assessment type, Workable callback_url); the unique constraint makes a retried or
    concurrent start return the same `public_id` instead of inviting twice. `state` holds what the
    provider needs later (callback URL, last timestamp sent) and is read only by its package.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    connection = models.ForeignKey(Connection, on_delete=models.CASCADE,
                                   related_name="external_assessments")
    invitation = models.ForeignKey("assessments.Invitation", on_delete=models.CASCADE,
                                   related_name="external_assessments")
    idempotency_key = models.CharField(max_length=300)
    offering_id = models.CharField(max_length=200,
                                   help_text="The test or package id the ATS chose.")
    offering_name = models.CharField(max_length=200, blank=True)
    state = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["connection", "idempotency_key"],
                                               name="external_assessment_once")]
        indexes = [models.Index(fields=["org", "invitation"], name="external_by_invitation")]

    def __str__(self) -> str:
        return f"{self.connection.provider} {self.offering_name or self.offering_id}"
