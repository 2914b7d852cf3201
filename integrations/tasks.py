"""Celery tasks of the integrations (queue `integrations`). Names are permanent; args are ids."""

from __future__ import annotations

import logging
from datetime import timedelta

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
        # of=("self",): lock the event only. Locking the joined connection row too would make
        # a second event of the same connection, processed at the same time, skip itself.
        event = (InboundEvent.objects.select_for_update(skip_locked=True, of=("self",))
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
            event.next_attempt_at = timezone.now() + timedelta(seconds=countdown + 60)
            event.save(update_fields=["next_attempt_at"])
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


@shared_task(name="integrations.send_delivery", base=TenantTask, acks_late=True)
def send_delivery(delivery_id: int, *, org_id: int) -> None:
    from .models import Delivery
    from .outbox import attempt, send_later

    wait = attempt(delivery_id)
    if wait is not None:
        send_later(Delivery(pk=delivery_id, org_id=org_id), countdown=wait)


SWEEP_GRACE = 60  # seconds a due item may wait for its own message before the sweeper steps in


@shared_task(name="integrations.sweep", ignore_result=True)
def sweep() -> int:
    """Re-enqueue due deliveries and inbound events whose Celery message was lost."""
    from tenants.context import platform_context

    from .models import Delivery, DeliveryStatus, InboundEvent, InboundStatus
    from .outbox import send_later

    cutoff = timezone.now() - timedelta(seconds=SWEEP_GRACE)
    count = 0
    with platform_context("outbox sweeper"):
        for delivery in Delivery.objects.filter(status=DeliveryStatus.PENDING,
                                                next_attempt_at__lte=cutoff)[:500]:
            send_later(delivery)
            count += 1
        for event in InboundEvent.objects.filter(status=InboundStatus.PENDING,
                                                 next_attempt_at__lte=cutoff)[:500]:
            InboundEvent.objects.filter(pk=event.pk).update(
                next_attempt_at=timezone.now() + timedelta(seconds=SWEEP_GRACE * 5))
            process_inbound_event.apply_async(args=[event.pk], kwargs={"org_id": event.org_id})
            count += 1
    if count:
        log.info("integrations.sweep re-enqueued %s item(s)", count)
    return count


RECONCILE_INTERVAL = 600.0  # seconds; config/celery.py schedules integrations.reconcile_lever


@shared_task(name="integrations.reconcile_lever", ignore_result=True)
def reconcile_lever() -> int:
    """Beat: fan out one reconciliation per active Lever connection (DESIGN §2 flow 5)."""
    from tenants.context import platform_context

    from .models import Connection, ConnectionStatus, Provider

    with platform_context("lever reconciliation fan-out"):
        rows = list(Connection.objects.filter(provider=Provider.LEVER,
                                              status=ConnectionStatus.ACTIVE)
                    .exclude(credentials="").values_list("pk", "org_id"))
    for pk, org_id in rows:
        reconcile_lever_connection.apply_async(args=[pk], kwargs={"org_id": org_id})
    return len(rows)


@shared_task(name="integrations.reconcile_lever_connection", base=TenantTask, acks_late=True,
             expires=RECONCILE_INTERVAL)
def reconcile_lever_connection(connection_id: int, *, org_id: int) -> str:
    """List opportunities advanced into mapped stages and replay the unannounced ones."""
    from .models import Connection, ConnectionStatus
    from .providers.lever import reconcile

    connection = Connection.objects.filter(pk=connection_id,
                                           status=ConnectionStatus.ACTIVE).first()
    if connection is None:
        return "connection not active"
    try:
        outcome = reconcile.reconcile(connection)
    except AuthError as exc:
        connection.record_error(f"reconciliation: {exc}")
        Connection.objects.filter(pk=connection.pk).update(
            status=ConnectionStatus.NEEDS_RECONNECT)
        return f"failed: {exc}"
    except (TransientProviderError, PermanentProviderError) as exc:
        # The window does not advance: the next run (10 min) covers it again.
        connection.record_error(f"reconciliation: {exc}")
        log.warning("integrations.lever.reconcile.failed connection=%s: %s",
                    connection.public_id, exc)
        return f"failed: {exc}"
    return str(outcome)
