"""The Redis token bucket, against the real Redis at 127.0.0.1:6379 (skipped if unreachable)."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from integrations.errors import RateLimited
from integrations.ratelimit import TokenBucket


@pytest.fixture
def redis_client() -> Iterator[redis.Redis]:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis is not reachable at {url} ({exc}); start it to run rate-limit tests")
    yield client
    client.close()


@pytest.fixture
def prefix(redis_client: redis.Redis) -> Iterator[str]:
    prefix = f"assay:test:ratelimit:{uuid.uuid4().hex}:"
    yield prefix
    keys = list(redis_client.scan_iter(match=prefix + "*"))
    if keys:
        redis_client.delete(*keys)


def test_it_allows_a_burst_then_asks_to_wait(redis_client: redis.Redis, prefix: str) -> None:
    bucket = TokenBucket(redis_client, prefix=prefix)  # Lever: 10/s, burst 20
    waits = [bucket.try_acquire("lever:conn-1") for _ in range(21)]
    assert waits[:20] == [0.0] * 20
    assert 0 < waits[20] <= 0.1 + 1e-9


def test_tokens_refill_at_the_steady_rate(redis_client: redis.Redis, prefix: str) -> None:
    bucket = TokenBucket(redis_client, rate=100, burst=5, prefix=prefix)
    for _ in range(5):
        assert bucket.try_acquire("k") == 0.0
    assert bucket.try_acquire("k") > 0
    time.sleep(0.06)  # about 6 tokens' worth at 100/s, capped at the burst of 5
    granted = sum(bucket.try_acquire("k") == 0.0 for _ in range(8))
    assert 3 <= granted <= 5


def test_acquire_blocks_until_a_token_is_free(redis_client: redis.Redis, prefix: str) -> None:
    bucket = TokenBucket(redis_client, rate=20, burst=1, prefix=prefix)
    assert bucket.acquire("k", timeout=1)
    started = time.monotonic()
    assert bucket.acquire("k", timeout=1)
    assert 0.02 <= time.monotonic() - started < 0.5


def test_acquire_gives_up_at_once_when_the_wait_exceeds_the_timeout(
    redis_client: redis.Redis, prefix: str
) -> None:
    bucket = TokenBucket(redis_client, rate=1, burst=1, prefix=prefix)
    assert bucket.acquire("k", timeout=0)
    started = time.monotonic()
    assert bucket.acquire("k", timeout=0.2) is False
    assert time.monotonic() - started < 0.1


def test_buckets_are_per_key(redis_client: redis.Redis, prefix: str) -> None:
    bucket = TokenBucket(redis_client, rate=1, burst=1, prefix=prefix)
    assert bucket.try_acquire("lever:a") == 0.0
    assert bucket.try_acquire("lever:a") > 0
    assert bucket.try_acquire("lever:b") == 0.0


def test_workers_share_one_bucket(redis_client: redis.Redis, prefix: str) -> None:
    worker_1 = TokenBucket(redis_client, rate=1, burst=2, prefix=prefix)
    worker_2 = TokenBucket(
        redis.Redis(connection_pool=redis_client.connection_pool), rate=1, burst=2, prefix=prefix
    )
    assert worker_1.try_acquire("k") == 0.0
    assert worker_2.try_acquire("k") == 0.0
    assert worker_1.try_acquire("k") > 0 and worker_2.try_acquire("k") > 0


def test_concurrent_takers_never_exceed_the_burst(redis_client: redis.Redis, prefix: str) -> None:
    bucket = TokenBucket(redis_client, rate=0.01, burst=20, prefix=prefix)
    granted: list[bool] = []
    lock = threading.Lock()

    def take() -> None:
        for _ in range(10):
            ok = bucket.try_acquire("k") == 0.0
            with lock:
                granted.append(ok)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sum(granted) == 20 and len(granted) == 40


def test_bucket_keys_expire(redis_client: redis.Redis, prefix: str) -> None:
    bucket = TokenBucket(redis_client, prefix=prefix)
    bucket.try_acquire("k")
    ttl = redis_client.pttl(prefix + "k")
    assert 0 < ttl <= 3000


def test_it_rejects_impossible_requests(redis_client: redis.Redis, prefix: str) -> None:
    with pytest.raises(ValueError):
        TokenBucket(redis_client, rate=0, prefix=prefix)
    with pytest.raises(ValueError):
        TokenBucket(redis_client, burst=2, prefix=prefix).try_acquire("k", tokens=3)


def test_limiter_raises_rate_limited_when_the_wait_is_too_long(
    redis_client: redis.Redis, prefix: str
) -> None:
    limiter = TokenBucket(redis_client, rate=1, burst=1, prefix=prefix).limiter("k", timeout=0.05)
    limiter.acquire()
    with pytest.raises(RateLimited) as info:
        limiter.acquire()
    assert info.value.retry_after == 1.0


def test_limiter_fails_open_when_redis_is_down() -> None:
    no_retries = Retry(NoBackoff(), 0)  # redis-py otherwise retries with backoff for seconds
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=no_retries)
    TokenBucket(dead).limiter("k").acquire()  # logged, not raised
    with pytest.raises(redis.RedisError):
        TokenBucket(dead).limiter("k", fail_open=False).acquire()
