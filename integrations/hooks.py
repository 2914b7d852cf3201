"""Where assessments' events become outbox deliveries (DESIGN §2 flow 3).

Receivers run inside the transaction that scored the result, so the Delivery rows commit with
it (or not at all). They do no I/O: outbox.enqueue defers the Celery message to on_commit.
"""

from __future__ import annotations

import logging

from . import outbox
from .models import Connection

log = logging.getLogger("integrations.hooks")


def _lever_connection(invitation, what: str):
    """The connection a Lever invitation came through, or None (logged)."""
    if invitation.source != "lever":
        return None
    ref = invitation.source_ref or {}
    connection = Connection.objects.filter(public_id=ref.get("connection_id")).first()
    if connection is None or not ref.get("opportunity_id"):
        log.warning("integrations.hooks.no_connection invitation=%s: %s not written back",
                    invitation.public_id, what)
        return None
    return connection


def on_result_created(sender, result, **kwargs) -> None:
    invitation = result.invitation
    ref = invitation.source_ref or {}
    connection = _lever_connection(invitation, f"result {result.public_id}")
    if connection is None:
        return
    outbox.enqueue(result.org, kind="lever.result", connection=connection,
                   key=f"result:{result.public_id}:lever:{connection.public_id}",
                   payload={"envelope": result.envelope,
                            "opportunity_id": ref["opportunity_id"]})


def on_verdict_given(sender, invitation, **kwargs) -> None:
    connection = _lever_connection(invitation, "verdict")
    if connection is None:
        return
    key = f"verdict:{invitation.public_id}:{invitation.verdict_at.isoformat()}"
    by = invitation.verdict_by.get_full_name() or invitation.verdict_by.email \
        if invitation.verdict_by else ""
    outbox.enqueue(invitation.org, kind="lever.verdict", connection=connection, key=key,
                   payload={"invitation_id": str(invitation.public_id), "marker": key,
                            "verdict": invitation.verdict, "by": by,
                            "opportunity_id": invitation.source_ref["opportunity_id"],
                            "result_ids": [str(r) for r in invitation.results.values_list(
                                "public_id", flat=True)]})
