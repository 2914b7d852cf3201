"""A token bucket in Redis, shared by every worker that calls the same ATS account.

Lever meters each API key (and, we assume, each OAuth grant) with a token bucket of 10 requests/s
and bursts of 20. N Celery workers writing back results for one customer must share one bucket or
they trip 429s together; a Lua script keeps refill-and-take atomic across processes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import redis

from integrations.errors import RateLimited

logger = logging.getLogger("integrations.ratelimit")

DEFAULT_RATE = 10.0  # tokens per second
DEFAULT_BURST = 20
DEFAULT_PREFIX = "assay:ratelimit:"

# KEYS[1] bucket hash; ARGV: rate/s, burst, tokens wanted. Returns {1, 0} when granted, else
# {0, milliseconds until enough tokens}. Time comes from the Redis server so workers' clocks don't
# matter (allowed in scripts since Redis 5 replicates effects, not scripts).
_TOKEN_BUCKET_LUA = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local wanted = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
local granted = 0
local wait_ms = 0
if tokens >= wanted then
  tokens = tokens - wanted
  granted = 1
else
  wait_ms = math.ceil((wanted - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {granted, wait_ms}
"""


class TokenBucket:
    """Token buckets keyed by connection, stored in Redis (rate/s steady, ``burst`` capacity)."""

    def __init__(
        self,
        client: redis.Redis,
        *,
        rate: float = DEFAULT_RATE,
        burst: int = DEFAULT_BURST,
        prefix: str = DEFAULT_PREFIX,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.redis = client
        self.rate = float(rate)
        self.burst = int(burst)
        self.prefix = prefix
        self.sleep = sleep
        self.clock = clock
        self._script = client.register_script(_TOKEN_BUCKET_LUA)

    def try_acquire(self, key: str, tokens: int = 1) -> float:
        """Take ``tokens`` now if possible; return 0.0 on success, else seconds to wait."""
        if tokens > self.burst:
            raise ValueError(f"cannot take {tokens} tokens from a bucket of {self.burst}")
        granted, wait_ms = self._script(
            keys=[self.prefix + key], args=[self.rate, self.burst, tokens]
        )
        return 0.0 if int(granted) else int(wait_ms) / 1000.0

    def acquire(self, key: str, timeout: float = 5.0, tokens: int = 1) -> bool:
        """Block until granted or until ``timeout`` seconds pass; return whether it was granted."""
        deadline = self.clock() + max(0.0, timeout)
        while True:
            wait = self.try_acquire(key, tokens)
            if wait == 0.0:
                return True
            remaining = deadline - self.clock()
            if wait > remaining:
                return False  # sleeping would not be enough: say so now
            self.sleep(wait)

    def limiter(self, key: str, timeout: float = 5.0, *, fail_open: bool = True) -> BucketLimiter:
        """Return a ``BaseClient`` rate-limiter bound to one connection's bucket."""
        return BucketLimiter(self, key, timeout, fail_open=fail_open)

    def reset(self, key: str) -> None:
        self.redis.delete(self.prefix + key)


class BucketLimiter:
    """Adapts ``TokenBucket`` to ``BaseClient.rate_limiter``: raises RateLimited on timeout.

    With ``fail_open`` a Redis outage lets requests through (logged): the vendor's own 429 still
    protects the account, and a cache hiccup must not stop result delivery.
    """

    def __init__(
        self, bucket: TokenBucket, key: str, timeout: float, *, fail_open: bool = True
    ) -> None:
        self.bucket = bucket
        self.key = key
        self.timeout = timeout
        self.fail_open = fail_open

    def acquire(self) -> None:
        try:
            granted = self.bucket.acquire(self.key, self.timeout)
        except redis.RedisError:
            if not self.fail_open:
                raise
            logger.warning("integrations.ratelimit.redis_unavailable key=%s", self.key)
            return
        if not granted:
            raise RateLimited(
                f"local rate limit for {self.key}", 1.0 / self.bucket.rate, status_code=None
            )
