"""The outbox: what we owe an ATS is a Delivery row written with the change that caused it.

Workers deliver with retries: exponential backoff with full jitter, `Retry-After` honoured, every
try recorded as a DeliveryAttempt, and at least 72 hours before a transient failure is given up.
A lost Celery message costs nothing: the sweeper (beat) re-enqueues whatever is due and untouched.
A Delivery of kind "<provider>.<what>" is delivered by that connection's adapter
(`adapter.deliver`, integrations.base); kinds without a connection (outbound webhooks) are looked
up in HANDLERS (dotted paths, imported lazily). Handlers raise integrations.errors on failure.
"""

from __future__ import annotations

import importlib
import logging
import random
import time
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from . import registry
from .errors import AuthError, PermanentProviderError, ProviderError, RateLimited
from .models import Connection, ConnectionStatus, Delivery, DeliveryAttempt, DeliveryStatus

log = logging.getLogger("integrations.outbox")

HANDLERS: dict[str, str] = {}
GIVE_UP_AFTER = timedelta(hours=72)
MAX_BACKOFF_SECONDS = 3600


def backoff(attempts: int) -> float:
    """Seconds to wait before try `attempts + 1`: full jitter over 2^attempts · 10 s, ≤ 1 h."""
    return random.uniform(1, min(10 * 2 ** min(attempts, 12), MAX_BACKOFF_SECONDS))


def handler_for(delivery: Delivery):
    """What delivers `delivery`: its connection's adapter, or a HANDLERS entry."""
    if delivery.kind in HANDLERS:
        module, _, name = HANDLERS[delivery.kind].rpartition(".")
        return getattr(importlib.import_module(module), name)
    if delivery.connection_id is None:
        raise PermanentProviderError(f"no handler for {delivery.kind!r}")
    return registry.adapter(delivery.connection).deliver


def enqueue(org, *, kind: str, key: str, payload: dict, connection=None) -> Delivery:
    """Write a Delivery (once per key) and hand it to a worker after the transaction commits."""
    if kind not in HANDLERS and (connection is None
                                 or kind.partition(".")[0] != connection.provider):
        raise ValueError(f"no outbox handler for {kind!r}")
    delivery, created = Delivery.objects.get_or_create(
        org=org, key=key, defaults={"kind": kind, "payload": payload, "connection": connection})
    if created:
        transaction.on_commit(lambda: send_later(delivery))
    return delivery


def send_later(delivery: Delivery, countdown: float = 0) -> None:
    from .tasks import send_delivery

    Delivery.objects.filter(pk=delivery.pk).update(enqueued_at=timezone.now())
    send_delivery.apply_async(args=[delivery.pk], kwargs={"org_id": delivery.org_id},
                              countdown=max(0.0, countdown))


def attempt(delivery_id: int) -> float | None:
    """Try one delivery; return seconds until the next try, or None when nothing is left to do."""
    with transaction.atomic():
        delivery = (Delivery.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("connection")
                    .filter(pk=delivery_id, status=DeliveryStatus.PENDING).first())
        if delivery is None:
            return None
        wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
        if wait > 1:
            return wait  # an early message (e.g. from the sweeper): come back when due
        started, clock = timezone.now(), time.monotonic()
        error, status_code, retry_in = None, None, None
        try:
            handler_for(delivery)(delivery)
        except PermanentProviderError as exc:
            error, status_code = exc, getattr(exc, "status_code", None)
        except ProviderError as exc:  # transient, rate limited, or auth (reconnect needed)
            error, status_code = exc, getattr(exc, "status_code", None)
            retry_in = getattr(exc, "retry_after", None) if isinstance(exc, RateLimited) else None
            retry_in = max(retry_in or 0, backoff(delivery.attempts))
            if isinstance(exc, AuthError) and delivery.connection_id:
                Connection.objects.filter(pk=delivery.connection_id).update(
                    status=ConnectionStatus.NEEDS_RECONNECT)
        except Exception as exc:  # noqa: BLE001 - a bug must not lose the delivery
            log.exception("integrations.outbox.handler_crashed delivery=%s", delivery.pk)
            error, retry_in = exc, backoff(delivery.attempts)
        DeliveryAttempt.objects.create(
            org_id=delivery.org_id, delivery=delivery, started_at=started, ok=error is None,
            duration_ms=int((time.monotonic() - clock) * 1000), status_code=status_code,
            error="" if error is None else f"{error.__class__.__name__}: {error}"[:2000])
        delivery.attempts += 1
        now = timezone.now()
        if error is None:
            delivery.status, delivery.delivered_at, delivery.last_error = (
                DeliveryStatus.DELIVERED, now, "")
            if delivery.connection_id:
                Connection.objects.filter(pk=delivery.connection_id).update(last_delivery_at=now)
        else:
            delivery.last_error = f"{error.__class__.__name__}: {error}"[:2000]
            if retry_in is None or now - delivery.created_at > GIVE_UP_AFTER:
                delivery.status = DeliveryStatus.FAILED
            else:
                delivery.next_attempt_at = now + timedelta(seconds=retry_in)
            if delivery.connection:
                delivery.connection.record_error(f"{delivery.kind}: {delivery.last_error}")
        delivery.save(update_fields=["status", "attempts", "delivered_at", "last_error",
                                     "next_attempt_at"])
    log.info("integrations.outbox.%s delivery=%s kind=%s attempts=%s%s", delivery.status,
             delivery.pk, delivery.kind, delivery.attempts,
             f" error={delivery.last_error}" if error else "")
    return retry_in if delivery.status == DeliveryStatus.PENDING else None


def retry_now(delivery: Delivery) -> None:
    """Admin action: try a failed (or waiting) delivery again at once."""
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, next_attempt_at=timezone.now())
    transaction.on_commit(lambda: send_later(delivery))
