"""Where assessments' events become outbox deliveries (DESIGN §2 flows 3 and 4).

Receivers run inside the transaction that made the change (a result scored, a status changed,
a verdict given), so the Delivery rows commit with it or not at all. They do no I/O:
outbox.enqueue defers the Celery message to on_commit. Which ATS is owed what is the adapter's
business (`on_result`, `on_status_changed`, `on_verdict`); this module only finds the adapter of
the connection the invitation came through.
"""

from __future__ import annotations

import logging

from . import outbox, registry
from .models import Connection, ConnectionStatus

log = logging.getLogger("integrations.hooks")


def adapter_for(invitation, what: str):
    """The adapter of the connection `invitation` came through, or None (logged when lost)."""
    if invitation.source not in registry.PROVIDERS:
        return None  # API, manual: no ATS to write back to
    connection_id = (invitation.source_ref or {}).get("connection_id")
    connection = (Connection.objects.filter(public_id=connection_id, provider=invitation.source)
                  .exclude(status=ConnectionStatus.DISCONNECTED).first()
                  if connection_id else None)
    if connection is None:
        log.warning("integrations.hooks.no_connection invitation=%s source=%s: %s not written "
                    "back", invitation.public_id, invitation.source, what)
        return None
    return registry.adapter(connection)


def _enqueue(adapter, org, items) -> None:
    for item in items:
        outbox.enqueue(org, kind=f"{adapter.key}.{item.what}", key=item.key,
                       payload=item.payload, connection=adapter.connection)


def on_result_created(sender, result, **kwargs) -> None:
    adapter = adapter_for(result.invitation, f"result {result.public_id}")
    if adapter is not None:
        _enqueue(adapter, result.org, adapter.on_result(result))


def on_invitation_status_changed(sender, invitation, old_status, new_status, **kwargs) -> None:
    adapter = adapter_for(invitation, f"status {new_status}")
    if adapter is not None:
        _enqueue(adapter, invitation.org, adapter.on_status_changed(invitation, old_status,
                                                                    new_status))


def on_verdict_given(sender, invitation, **kwargs) -> None:
    adapter = adapter_for(invitation, "verdict")
    if adapter is not None:
        _enqueue(adapter, invitation.org, adapter.on_verdict(invitation))
