"""`assessment.update` through the outbox: what is owed when, and sending it in order.

Written (no I/O, inside the transaction of the change) as Delivery kind `ashby.update`, one per
assessment and event, the whole body ready but for the timestamp:

    started   → status "Started"            (the candidate began the first test)
    completed → status "Completed", result, report link, dimension scores, time taken
    cancelled → cancelled_reason           (by Ashby's assessment.cancel, or in Assay)
    expired   → cancelled_reason
    verdict   → the completion again, plus the recruiter's thumbs up/down

Ashby wants integer-millisecond timestamps that increase per assessment (brief §7.20), also
across retries and concurrent workers. The send takes the ExternalAssessment row lock, stamps
max(now, last + 1) from the database's clock (one clock for every worker), stores it with the
send, and only then calls Ashby; a retry is stamped again. Deliveries can still arrive out of
order (a retried "started" after "completed"), so each carries a sequence (invited < started <
completed/cancelled/expired < verdicts, verdicts by time) and one below what was already sent is
skipped rather than regressing the status Ashby shows.
"""

from __future__ import annotations

import contextlib
import logging
from contextvars import ContextVar

from django.db import connection as db
from django.db import transaction

from integrations.base import Outgoing
from integrations.errors import PermanentProviderError, ProviderError
from integrations.models import ExternalAssessment

from . import payloads

log = logging.getLogger("integrations.ashby.updates")

INVITED, STARTED, FINAL, VERDICT = 0, 1, 2, 3
EVENTS = {"started": STARTED, "completed": FINAL, "cancelled": FINAL, "expired": FINAL}

# Set while Ashby's own assessment.cancel is being served, so the cancelled_reason says so.
_cancelled_by_ashby: ContextVar[bool] = ContextVar("ashby_cancel", default=False)


@contextlib.contextmanager
def cancelling_for_ashby():
    token = _cancelled_by_ashby.set(True)
    try:
        yield
    finally:
        _cancelled_by_ashby.reset(token)


def now_ms() -> int:
    """Milliseconds since the epoch from PostgreSQL's clock, shared by every worker."""
    with db.cursor() as cursor:
        cursor.execute("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint")
        return int(cursor.fetchone()[0])


def initial_state(timestamp: int) -> dict:
    """An assessment's bookkeeping when start answers with the "Invited" update_request."""
    return {"invited_ts": timestamp, "last_ts": timestamp, "sent_seq": [INVITED, 0]}


def assessment_for(connection, invitation) -> ExternalAssessment | None:
    public_id = (invitation.source_ref or {}).get("assessment_id")
    found = (ExternalAssessment.objects.filter(connection=connection, public_id=public_id).first()
             if public_id else None)
    if found is None:
        log.warning("integrations.ashby.no_assessment invitation=%s: not written back",
                    invitation.public_id)
    return found


def _outgoing(assessment: ExternalAssessment, event: str, seq: list[int],
              body: dict) -> Outgoing:
    key = f"ashby.update:{assessment.public_id}:{event}"
    return Outgoing("update", key, {"assessment_id": str(assessment.public_id), "event": event,
                                    "seq": seq, "body": body})


def for_status(connection, invitation, new_status: str) -> list[Outgoing]:
    if new_status not in EVENTS:
        return []  # created (answered by start's update_request), sent, opened, ...
    assessment = assessment_for(connection, invitation)
    if assessment is None:
        return []
    aid = str(assessment.public_id)
    if new_status == "started":
        body = payloads.started(aid)
    elif new_status == "completed":
        body = payloads.completed(aid, invitation)
    elif new_status == "expired":
        body = payloads.cancelled(aid, "expired")
    else:
        body = payloads.cancelled(aid, "cancelled_by_ashby" if _cancelled_by_ashby.get()
                                  else "cancelled")
    return [_outgoing(assessment, new_status, [EVENTS[new_status], 0], body)]


def for_verdict(connection, invitation) -> list[Outgoing]:
    assessment = assessment_for(connection, invitation)
    if assessment is None or not invitation.verdict or invitation.verdict_at is None:
        return []
    aid = str(assessment.public_id)
    at_ms = int(invitation.verdict_at.timestamp() * 1000)
    body = payloads.with_verdict(payloads.completed(aid, invitation), invitation.verdict)
    return [_outgoing(assessment, f"verdict:{invitation.verdict_at.isoformat()}",
                      [VERDICT, at_ms], body)]


def deliver_update(delivery, client) -> None:
    """Outbox handler for `ashby.update`: lock, skip if stale, stamp, store, send.

    The timestamp is saved before the send and the error re-raised only after the savepoint is
    released, so a failed send still moves `last_ts` on (the retry is stamped later still).
    """
    payload = delivery.payload
    if client.rate_limiter is not None:
        client.rate_limiter.acquire()  # Ashby's partner-wide pause: hand it back at once
    error = None
    with transaction.atomic():
        assessment = (ExternalAssessment.objects.select_for_update()
                      .filter(connection=delivery.connection,
                              public_id=payload["assessment_id"]).first())
        if assessment is None:
            raise PermanentProviderError(
                f"assessment {payload['assessment_id']} no longer exists")
        state = assessment.state
        sent = list(state.get("sent_seq") or [INVITED, 0])
        if list(payload["seq"]) < sent:
            log.info("integrations.ashby.update.skipped delivery=%s event=%s: a later update "
                     "was already sent", delivery.pk, payload["event"])
            return
        timestamp = max(now_ms(), int(state.get("last_ts") or 0) + 1)
        state["last_ts"] = timestamp
        assessment.save(update_fields=["state"])
        try:
            client.update({**payload["body"], "timestamp": timestamp})
        except ProviderError as exc:
            error = exc
        else:
            state["sent_seq"] = max(sent, list(payload["seq"]))
            assessment.save(update_fields=["state"])
    if error is not None:
        raise error
    log.info("integrations.ashby.update.sent delivery=%s assessment=%s event=%s timestamp=%s",
             delivery.pk, assessment.public_id, payload["event"], timestamp)
