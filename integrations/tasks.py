"""Celery tasks of the integrations (queue `integrations`). Names are permanent; args are ids."""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from integrations.errors import AuthError, PermanentProviderError, TransientProviderError
from tenants.tasks import TenantTask

log = logging.getLogger("integrations.tasks")

# Inbound events are retried for a day (Lever itself retries only five times, so our own
# retries are what keeps a stage change from being lost while the ATS API is down).
INBOUND_MAX_RETRIES = 60


def backoff(retries: int) -> float:
    """Exponential backoff with full jitter, capped at 30 minutes."""
    import random

    return random.uniform(1, min(30 * 2 ** min(retries, 6), 1800))


@shared_task(name="integrations.process_inbound_event", base=TenantTask, bind=True,
             max_retries=INBOUND_MAX_RETRIES, acks_late=True)
def process_inbound_event(self, event_id: int, *, org_id: int) -> str:
    from .models import InboundEvent, InboundStatus
    from .providers.lever.adapter import handle_stage_change

    with transaction.atomic():
        event = (InboundEvent.objects.select_for_update(skip_locked=True)
                 .select_related("connection").filter(pk=event_id).first())
        if event is None or event.status != InboundStatus.PENDING:
            return "not pending (already processed, or being processed by another worker)"
        event.attempts += 1
        try:
            outcome = handle_stage_change(event)
        except (TransientProviderError, AuthError) as exc:
            event.outcome = f"try {event.attempts} failed, will retry: {exc}"
            event.save(update_fields=["attempts", "outcome"])
            event.connection.record_error(f"processing a webhook: {exc}")
            if isinstance(exc, AuthError):
                event.connection.status = "needs_reconnect"
                event.connection.save(update_fields=["status"])
            countdown = getattr(exc, "retry_after", None) or backoff(self.request.retries)
            transaction.on_commit(lambda: self.retry(countdown=countdown, throw=False))
            return event.outcome
        except PermanentProviderError as exc:
            event.status, event.outcome = InboundStatus.FAILED, f"failed: {exc}"
            event.connection.record_error(f"processing a webhook: {exc}")
        else:
            event.status, event.outcome = InboundStatus.PROCESSED, outcome
        event.processed_at = timezone.now()
        event.save(update_fields=["status", "outcome", "attempts", "processed_at"])
    log.info("integrations.inbound.%s event=%s: %s", event.status, event.pk, event.outcome)
    return event.outcome
