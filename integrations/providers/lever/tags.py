"""Lever tags that follow a candidate's progress: "Assay: invited", then "Assay: completed".

Lever's guidance for assessment vendors (brief §2: "update tags as the candidate progresses")
lets recruiters filter their pipeline by where a candidate is. Tags are added, never removed:
an opportunity may hold several invitations (one per mapping), so "invited" stays true of it.

- `LeverAdapter.on_status_changed` (called by integrations.hooks on every status change) owes
  one outbox Delivery (kind "lever.tags", keyed per invitation and event), written in the
  transaction that created or completed the invitation; it does no I/O. The worker then calls
  `addTags`, which Lever treats as a set union, so a retried delivery changes nothing.
- Per connection, `Connection.config["tags"] = {"invited": "...", "completed": "..."}` renames a
  tag; an empty string switches that tag off. Both are on by default.
"""

from __future__ import annotations

import logging

log = logging.getLogger("integrations.lever.tags")

DEFAULT_TAGS = {"invited": "Assay: invited", "completed": "Assay: completed"}


def tag_names(connection) -> dict[str, str]:
    """The tag per event for this connection ('' = off), defaults filled in."""
    configured = (connection.config or {}).get("tags")
    configured = configured if isinstance(configured, dict) else {}
    names = {}
    for event, default in DEFAULT_TAGS.items():
        value = configured.get(event, default)
        names[event] = value.strip() if isinstance(value, str) else default
    return names


def event_for(old_status: str | None, new_status: str) -> str | None:
    if old_status is None:
        return "invited"
    if new_status == "completed":
        return "completed"
    return None


def deliver_tags(delivery) -> None:
    """Outbox handler for kind "lever.tags"; payload: {"opportunity_id", "add": [tags]}."""
    from .adapter import client_for

    connection = delivery.connection
    perform_as = (connection.config or {}).get("perform_as") or None
    client_for(connection).add_tags(delivery.payload["opportunity_id"],
                                    list(delivery.payload["add"]), perform_as=perform_as)
