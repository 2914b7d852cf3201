"""Status changes → `PUT <callback_url>` through the outbox (kind "workable.callback").

`owed` runs inside the transaction that changed the invitation (integrations.hooks) and only
writes what is owed; `deliver` runs in the outbox worker and makes the call.

- created → `{"status": "pending"}` (W2 sends it at once; whether Workable needs it is
  [UNCONFIRMED], and it is harmless);
- completed → the results (payloads.completed), computed in the transaction that scored them;
- expired → `{"status": "expired"}`;
- cancelled by our admin → `{"status": "expired"}` too: Workable has no "cancelled", the link no
  longer works, and "rejected" would say the candidate declined;
- sent, opened, started, delivery_failed → nothing (Workable keeps "pending").

Deliveries may run out of order (a pending retried after the completed went through). Each has
a place in a sequence (pending 1 < completed = expired 2); `deliver` locks the
ExternalAssessment row, skips a delivery below the highest one already sent, and records what
it sent in `ExternalAssessment.state`, so Workable never sees a terminal status regress.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils import timezone

from integrations import partner
from integrations.base import Outgoing
from integrations.errors import AuthError, PermanentProviderError
from integrations.http import build_user_agent
from integrations.models import ExternalAssessment

from . import payloads
from .client import REENTER, WorkableClient

log = logging.getLogger("integrations.workable")

KIND = "callback"


def status_for(old_status: str | None, new_status: str) -> str | None:
    """The Workable status owed for one of our status changes (None: nothing to tell)."""
    if old_status is None:
        return payloads.PENDING
    if new_status == "completed":
        return payloads.COMPLETED
    if new_status in ("expired", "cancelled"):
        return payloads.EXPIRED
    return None


def owed(connection, invitation, old_status: str | None, new_status: str) -> list[Outgoing]:
    status = status_for(old_status, new_status)
    if status is None:
        return []
    ref = invitation.source_ref or {}
    assessment_id, url = ref.get("assessment_id"), ref.get("callback_url")
    if not assessment_id or not url:
        log.warning("integrations.workable.callback.no_assessment invitation=%s: %s not sent",
                    invitation.public_id, status)
        return []
    score_format = (connection.config or {}).get("score_format") or "number"
    body = payloads.callback(status, invitation, score_format=score_format)
    return [Outgoing(KIND, f"workable:callback:{assessment_id}:{status}", {
        "assessment_id": assessment_id, "callback_url": url,
        "seq": payloads.SEQUENCE[status], "body": body})]


def client_for(connection, token: str) -> WorkableClient:
    return WorkableClient(token, user_agent=build_user_agent("1", settings.SITE_URL))


def deliver(adapter, delivery) -> None:
    """Outbox handler: PUT the body to the callback URL unless a later status went first."""
    connection = adapter.connection
    payload = delivery.payload
    seq = int(payload["seq"])
    # Held until the outbox commits this attempt: deliveries of one assessment take turns.
    assessment = (ExternalAssessment.objects.select_for_update()
                  .filter(connection=connection, public_id=payload["assessment_id"]).first())
    if assessment is None:
        raise PermanentProviderError(f"assessment {payload['assessment_id']} no longer exists")
    state = dict(assessment.state or {})
    sent = int(state.get("callback_seq") or 0)
    if seq < sent:
        log.info("integrations.workable.callback.skipped assessment=%s status=%s: %s was "
                 "already sent", assessment.public_id, payload["body"]["status"],
                 state.get("callback_status"))
        return
    url = payload["callback_url"]
    problem = partner.callback_url_problem(connection, url, settings.WORKABLE_CALLBACK_DOMAINS)
    if problem:
        raise PermanentProviderError(problem)
    token = adapter.credential()
    if not token:
        raise AuthError(f"no Workable access token on this connection: {REENTER}")
    client_for(connection, token).put_callback(url, payload["body"])
    state.update(callback_seq=max(sent, seq), callback_status=payload["body"]["status"],
                 callback_at=timezone.now().isoformat())
    assessment.state = state
    assessment.save(update_fields=["state"])
    log.info("integrations.workable.callback.sent assessment=%s status=%s",
             assessment.public_id, payload["body"]["status"])
