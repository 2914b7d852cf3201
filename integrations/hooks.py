"""Where assessments' events become outbox deliveries (DESIGN §2 flow 3).

Receivers run inside the transaction that scored the result, so the Delivery rows commit with
it (or not at all). They do no I/O: outbox.enqueue defers the Celery message to on_commit.
"""

from __future__ import annotations

import logging

from . import outbox
from .models import Connection

log = logging.getLogger("integrations.hooks")


def on_result_created(sender, result, **kwargs) -> None:
    invitation = result.invitation
    if invitation.source != "lever":
        return
    ref = invitation.source_ref or {}
    connection = Connection.objects.filter(public_id=ref.get("connection_id")).first()
    if connection is None or not ref.get("opportunity_id"):
        log.warning("integrations.hooks.no_connection invitation=%s: result %s not written "
                    "back", invitation.public_id, result.public_id)
        return
    outbox.enqueue(result.org, kind="lever.result", connection=connection,
                   key=f"result:{result.public_id}:lever:{connection.public_id}",
                   payload={"envelope": result.envelope,
                            "opportunity_id": ref["opportunity_id"]})
