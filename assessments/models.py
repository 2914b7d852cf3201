"""The test catalog as loaded into the database (shared by every org, so not tenant-owned)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


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
