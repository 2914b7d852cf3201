"""A tiny fixed-window rate limiter on Django's cache (Redis), for the anonymous candidate pages.

`hit("token", ip, "30/m")` counts one request of `ip` in the current window and says whether it
is allowed and, when not, how many seconds remain until the window ends (for Retry-After).
Redis makes the count shared by every web process.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.core.cache import cache

PERIODS = {"s": 1, "m": 60, "h": 3600}


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0


def parse_rate(rate: str) -> tuple[int, int]:
    """"30/m" -> (30, 60). Raises ValueError naming the bad value."""
    try:
        count, period = rate.strip().split("/")
        return int(count), PERIODS[period.strip()]
    except (ValueError, KeyError):
        raise ValueError(f"rate {rate!r} must look like 30/m (count per s, m or h)") from None


def hit(scope: str, ident: str, rate: str, *, now: float | None = None) -> Verdict:
    limit, period = parse_rate(rate)
    now = time.time() if now is None else now
    window = int(now // period)
    key = f"rl:{scope}:{ident}:{window}"
    cache.add(key, 0, timeout=period + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=period + 1)
        count = 1
    if count <= limit:
        return Verdict(True)
    return Verdict(False, max(1, int((window + 1) * period - now + 0.999)))


def client_ip(request) -> str:
    """The peer address. Behind a proxy, configure it to set REMOTE_ADDR (docs)."""
    return request.META.get("REMOTE_ADDR") or "unknown"
