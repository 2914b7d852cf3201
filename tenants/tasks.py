"""Celery base class that runs a task in its org's tenant context, and the beat heartbeat."""

from __future__ import annotations

import logging
import time

from celery import Task, shared_task

from .context import tenant_context

log = logging.getLogger("assay.tasks")


class TenantTask(Task):
    """Tasks of one org take `org_id` as a keyword argument; the body runs in its context.

    Row-level security then applies to everything the task reads and writes, exactly as it does
    for a request of that org.
    """

    abstract = True

    def __call__(self, *args, **kwargs):
        org_id = kwargs.get("org_id")
        if org_id is None:
            raise TypeError(f"{self.name} is a tenant task: call it with org_id=...")
        with tenant_context(org_id):
            return super().__call__(*args, **kwargs)


@shared_task(name="tenants.beat_heartbeat", ignore_result=True)
def beat_heartbeat() -> None:
    """Lets /readyz-style checks and the logs show that beat schedules and a worker runs."""
    from config.redis import redis_client

    redis_client().set("assay:beat:heartbeat", f"{time.time():.3f}")


@shared_task(name="tenants.whoami", base=TenantTask)
def whoami(*, org_id: int) -> dict:
    """Report the org a task sees through the database (used by tests and for diagnostics)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_setting('app.current_org', true)")
        role, org = cursor.fetchone()
    from .models import Membership

    return {"role": role, "org": org,
            "memberships": sorted(Membership.objects.values_list("org_id", flat=True))}
