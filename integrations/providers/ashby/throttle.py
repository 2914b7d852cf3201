"""Ashby's partner-wide throttle: one 429 slows every Ashby connection, not just one.

A 429 carrying `X-RateLimit-Scope: integration-partner` (brief §4.3, §7.26) means Ashby throttles
us as a partner across all organisations. We remember "paused for N more ms" as a Redis key with
that TTL (no clocks compared across workers) and every Ashby delivery checks it before sending:
while it lives, the delivery is handed back to the outbox with `RateLimited(retry_after=the rest)`
without calling Ashby. A per-key 429 (no scope header) only delays its own delivery.

Redis trouble fails open (logged): Ashby's own 429 still protects it, and a cache hiccup must not
stop result delivery.
"""

from __future__ import annotations

import logging

import redis

from config.redis import redis_client
from integrations.errors import RateLimited

log = logging.getLogger("integrations.ashby.throttle")

KEY = "assay:ashby:partner-paused"
DEFAULT_PAUSE = 60.0  # seconds, when Ashby's partner-wide 429 names no Retry-After
SCOPE_HEADER = "X-RateLimit-Scope"
PARTNER_SCOPE = "integration-partner"

# Extend the pause, never shorten it (two workers may see different Retry-After values).
_EXTEND = """
local ttl = redis.call('PTTL', KEYS[1])
if ttl < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
  return 1
end
return 0
"""


def is_partner_wide(response) -> bool:
    return response.headers.get(SCOPE_HEADER, "").strip().lower() == PARTNER_SCOPE


def pause(seconds: float | None) -> float:
    """Pause every Ashby delivery for `seconds` (default 60); return the pause applied."""
    seconds = DEFAULT_PAUSE if seconds is None or seconds <= 0 else float(seconds)
    try:
        redis_client().eval(_EXTEND, 1, KEY, max(1, int(seconds * 1000)))
    except redis.RedisError:
        log.warning("integrations.ashby.throttle.redis_unavailable: pause not shared")
    log.warning("integrations.ashby.partner_throttled pause=%.1fs (every Ashby connection)",
                seconds)
    return seconds


def remaining() -> float:
    """Seconds left of a partner-wide pause (0.0 when none)."""
    try:
        ttl_ms = redis_client().pttl(KEY)
    except redis.RedisError:
        log.warning("integrations.ashby.throttle.redis_unavailable: not checked")
        return 0.0
    return ttl_ms / 1000 if ttl_ms and ttl_ms > 0 else 0.0


def clear() -> None:
    redis_client().delete(KEY)


class PartnerPause:
    """A `BaseClient.rate_limiter`: refuses to send while the partner-wide pause lasts."""

    def acquire(self) -> None:
        left = remaining()
        if left > 0:
            raise RateLimited(f"Ashby throttles Assay across all organisations; waiting "
                              f"{left:.0f} s before calling it again", left, status_code=None)
