"""Lever webhook signatures: HMAC-SHA256 of ``token + triggeredAt``, carried inside the JSON body.

There is no signature header and the raw body is not signed (brief §2.5, §7.1; third-party pages
that say otherwise are wrong). ``triggeredAt`` is integer milliseconds since the epoch.
Reference: https://hire.lever.co/developer/documentation#webhooks
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping
from typing import Any

MAX_AGE_SECONDS = 7 * 24 * 3600  # Lever's retries finish long before this; older is a replay
MAX_FUTURE_SKEW_SECONDS = 5 * 60


def signed_message(token: str, triggered_at: int | str) -> bytes:
    """Return the bytes Lever signs: the token, then triggeredAt as a decimal, no separator."""
    return f"{token}{triggered_at}".encode()


def sign(token: str, triggered_at: int | str, signature_token: str) -> str:
    """Return the hex signature Lever would put in ``signature`` for this delivery."""
    digest = hmac.new(signature_token.encode(), signed_message(token, triggered_at), hashlib.sha256)
    return digest.hexdigest()


def is_signed(payload: Mapping[str, Any]) -> bool:
    """Lever adds ``signature`` only when a signing token exists (brief §7.2)."""
    return isinstance(payload.get("signature"), str) and bool(payload["signature"])


def verify(payload: Mapping[str, Any], signature_token: str | Iterable[str]) -> bool:
    """Check a parsed delivery's ``signature`` in constant time; unsigned or malformed is False.

    Several tokens may be given (one per event type, or old and new around a webhook re-create).
    """
    if not isinstance(payload, Mapping) or not is_signed(payload):
        return False
    token = payload.get("token")
    triggered_at = payload.get("triggeredAt")
    if not isinstance(token, str) or not token:
        return False
    # bool is an int subclass and would sign as "True"; floats would sign as "1.4e12".
    if isinstance(triggered_at, bool) or not isinstance(triggered_at, int | str):
        return False
    if isinstance(triggered_at, str) and not triggered_at.isdigit():
        return False
    tokens = [signature_token] if isinstance(signature_token, str) else list(signature_token)
    received = payload["signature"].strip().lower()
    ok = False
    for candidate in tokens:
        if candidate:
            # No early exit: the time taken does not reveal which token matched.
            ok |= hmac.compare_digest(sign(token, triggered_at, candidate), received)
    return ok


def triggered_at_seconds(payload_or_millis: Mapping[str, Any] | int | str) -> float | None:
    """Return ``triggeredAt`` in epoch seconds, or None when absent or not an integer."""
    value: Any = payload_or_millis
    if isinstance(payload_or_millis, Mapping):
        value = payload_or_millis.get("triggeredAt")
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int):
        return None
    return value / 1000.0


def is_stale(
    payload_or_millis: Mapping[str, Any] | int | str,
    *,
    now: float | None = None,
    max_age: float = MAX_AGE_SECONDS,
    max_future_skew: float = MAX_FUTURE_SKEW_SECONDS,
) -> bool:
    """True when ``triggeredAt`` is missing, older than ``max_age`` or implausibly in the future.

    A seconds-based value (10 digits) reads as January 1970 in milliseconds, so it is stale too.
    """
    seconds = triggered_at_seconds(payload_or_millis)
    if seconds is None:
        return True
    now = time.time() if now is None else now
    return seconds < now - max_age or seconds > now + max_future_skew
