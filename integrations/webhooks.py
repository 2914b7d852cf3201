"""Inbound webhooks: verify, store, commit, enqueue, answer. The view never calls the ATS.

Order of checks (DESIGN §2 flow 1, §4): oversize body → 413; unknown connection → 404; malformed
JSON → 400; unsigned or bad signature → 401; stale or replayed timestamp → 400; a delivery id
already stored → 200 with no second effect; an event we do not handle → 200, stored as ignored;
otherwise stored and, once committed, handed to a worker → 200. Log lines use stable keys
(`integrations.lever.webhook.<what>`).
"""

from __future__ import annotations

import json
import logging
import time

from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from tenants.context import platform_context, tenant_context

from .models import Connection, ConnectionStatus, InboundEvent, InboundStatus, Provider
from .providers.lever import inbound as lever_inbound

log = logging.getLogger("integrations.lever.webhook")

MAX_BODY_BYTES = 1024 * 1024


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message}}, status=status)


def find_connection(provider: str, public_id) -> Connection | None:
    """Resolve a webhook's org from its connection id: the one cross-org lookup it needs.

    Loads only what the intake needs (no OAuth tokens are decrypted on this hot path).
    """
    with platform_context(f"resolve {provider} connection for an inbound call"):
        return (Connection.objects.filter(public_id=public_id, provider=provider)
                .exclude(status=ConnectionStatus.DISCONNECTED)
                .only("pk", "org_id", "public_id", "provider", "status", "webhook_secret",
                      "last_inbound_at").first())


def read_body(request, limit: int) -> bytes | None:
    """The request body, or None when it is larger than `limit` bytes (answer 413).

    Checks Content-Length first so an oversize body is refused without reading it; every
    inbound route (webhooks here, partner calls in integrations.partner) reads through this.
    """
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        return None
    try:
        body = request.body
    except RequestDataTooBig:
        return None
    return None if len(body) > limit else body


@csrf_exempt
@require_POST
def lever_webhook(request, connection_id):
    body = read_body(request, MAX_BODY_BYTES)
    if body is None:
        log.warning("integrations.lever.webhook.too_large connection=%s", connection_id)
        return _error(413, "too_large", f"the body is larger than {MAX_BODY_BYTES} bytes")
    # One transaction for the lookup and the insert: the answer goes out after its commit.
    with transaction.atomic():
        connection = find_connection(Provider.LEVER, connection_id)
        if connection is None:
            log.warning("integrations.lever.webhook.unknown_connection connection=%s",
                        connection_id)
            return _error(404, "unknown_connection", "no such Lever connection")
        problem = _check(connection, body, connection_id)
        if isinstance(problem, JsonResponse):
            return problem
        payload = problem
        handled = lever_inbound.is_handled(payload)
        with tenant_context(connection.org_id):
            try:
                with transaction.atomic():
                    event = InboundEvent.objects.create(
                        org_id=connection.org_id, connection=connection,
                        event_type=payload["event"], dedupe_key=lever_inbound.dedupe_key(payload),
                        body=body.decode(),
                        status=InboundStatus.PENDING if handled else InboundStatus.IGNORED,
                        outcome="" if handled else "event not handled (e.g. Lever's Test button)")
            except IntegrityError:
                log.info("integrations.lever.webhook.duplicate connection=%s token=%s",
                         connection_id, payload["token"])
                return JsonResponse({"status": "duplicate"})
            connection.note_inbound()
            if handled:
                from .tasks import process_inbound_event

                transaction.on_commit(lambda: process_inbound_event.apply_async(
                    args=[event.pk], kwargs={"org_id": connection.org_id}))
    log.info("integrations.lever.webhook.%s connection=%s event=%s token=%s",
             "accepted" if handled else "ignored", connection_id, payload["event"],
             payload["token"])
    return JsonResponse({"status": "accepted" if handled else "ignored"})


def _check(connection, body: bytes, connection_id):
    """The parsed delivery, or the 4xx response that refuses it."""
    try:
        payload = json.loads(body)
        lever_inbound.check_shape(payload)
    except (ValueError, lever_inbound.InvalidDelivery) as exc:
        log.warning("integrations.lever.webhook.malformed connection=%s: %s", connection_id, exc)
        return _error(400, "malformed", f"not a Lever webhook delivery: {exc}")
    if not lever_inbound.is_signed(payload):
        log.warning("integrations.lever.webhook.unsigned connection=%s", connection_id)
        return _error(401, "unsigned", "the delivery has no signature")
    if not lever_inbound.verify(payload, connection.webhook_secret):
        log.warning("integrations.lever.webhook.invalid_signature connection=%s", connection_id)
        return _error(401, "invalid_signature", "the signature does not match")
    if lever_inbound.is_stale(payload, time.time()):
        log.warning("integrations.lever.webhook.stale connection=%s token=%s", connection_id,
                    payload["token"])
        return _error(400, "stale", "triggeredAt is too old or in the future")
    return payload
