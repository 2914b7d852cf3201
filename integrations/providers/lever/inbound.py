"""What Lever's webhook deliveries look like to us: which events we act on, how to check them.

Reference: https://hire.lever.co/developer/documentation#webhooks
Lever signs `token + triggeredAt` (not the body) with the webhook's signature token, retries a
failed delivery a few times with the same `token`, and its "Test" button sends `candidateHired`
with empty `data`.
"""

from __future__ import annotations

from typing import Any

from . import signatures

HANDLED_EVENTS = frozenset({"candidateStageChange"})
REQUIRED_FIELDS = ("token", "triggeredAt", "event")


class InvalidDelivery(ValueError):
    """The body is JSON but not a Lever delivery."""


def check_shape(payload: Any) -> None:
    if not isinstance(payload, dict):
        raise InvalidDelivery("the body must be a JSON object")
    missing = [name for name in REQUIRED_FIELDS if not payload.get(name)]
    if missing:
        raise InvalidDelivery(f"missing {', '.join(missing)}")
    if not isinstance(payload.get("data", {}), dict):
        raise InvalidDelivery("data must be an object")
    if payload["event"] in HANDLED_EVENTS:
        data = payload.get("data") or {}
        for name in ("opportunityId", "toStageId"):
            if not isinstance(data.get(name), str) or not data[name]:
                raise InvalidDelivery(f"{payload['event']} needs data.{name}")


def is_signed(payload: dict) -> bool:
    return signatures.is_signed(payload)


def verify(payload: dict, secret: str) -> bool:
    return bool(secret) and signatures.verify(payload, secret)


def is_stale(payload: dict, now: float) -> bool:
    return signatures.is_stale(payload, now=now)


def dedupe_key(payload: dict) -> str:
    return str(payload["token"])


def is_handled(payload: dict) -> bool:
    return payload["event"] in HANDLED_EVENTS
