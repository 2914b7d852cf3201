"""HTTP plumbing shared by provider clients: timeouts, bounded retries, error mapping.

Retries here are deliberately short (a few seconds in total): anything longer is raised as
``RateLimited`` / ``TransientProviderError`` so the durable outbox retries later and no Celery
worker sits asleep for minutes.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

import requests

from integrations.errors import (
    AuthError,
    NotFound,
    PermanentProviderError,
    ProviderError,
    RateLimited,
    TransientProviderError,
)

logger = logging.getLogger("integrations.http")

DEFAULT_TIMEOUT: tuple[float, float] = (5.0, 30.0)  # (connect, read) seconds
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# 429 and 503 mean "not processed", so even a non-idempotent POST may be sent again. A 500/502/504
# or a read timeout on a POST may have created the note already: we let the outbox decide instead.
NOT_PROCESSED_STATUSES = frozenset({429, 503})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class RateLimiter(Protocol):
    """Anything with ``acquire()``: called before every attempt; may block or raise RateLimited."""

    def acquire(self) -> None: ...


def build_user_agent(version: str, site_url: str | None = None) -> str:
    """Return ``Assay/<version> (+<site_url>)``; Ashby's Cloudflare rejects bare UAs."""
    return f"Assay/{version} (+{site_url})" if site_url else f"Assay/{version}"


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Read a Retry-After header given as delta-seconds or as an HTTP-date (RFC 9110 §10.2.3)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


def error_message(response: requests.Response, limit: int = 500) -> str:
    """Pull the vendor's human message out of an error body (JSON or text)."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, Mapping):
        for key in ("message", "error_description", "error", "detail", "errors"):
            value = body.get(key)
            if value:
                return str(value)[:limit]
    text = (response.text or "").strip()
    return text[:limit] or (response.reason or f"HTTP {response.status_code}")


def error_code(response: requests.Response) -> str | None:
    """Return the vendor's machine-readable code (Lever: ``code``; OAuth: ``error``), if any."""
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, Mapping):
        code = body.get("code") or body.get("error")
        return str(code) if isinstance(code, str | int) else None
    return None


def raise_for_response(response: requests.Response, message: str | None = None) -> None:
    """Map a non-2xx response to the error vocabulary; return silently on success."""
    status = response.status_code
    if 200 <= status < 300:
        return
    message = message or error_message(response)
    code = error_code(response)
    if status == 401:
        raise AuthError(message, status_code=status, code=code)
    if status == 404:
        raise NotFound(message, status_code=status, code=code)
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        raise RateLimited(message, retry_after, status_code=status, code=code)
    if status >= 500 or status == 408:
        raise TransientProviderError(message, status_code=status, code=code)
    if 300 <= status < 400:
        location = response.headers.get("Location", "?")
        raise PermanentProviderError(
            f"unexpected redirect to {location}", status_code=status, code=code
        )
    raise PermanentProviderError(message, status_code=status, code=code)


class BaseClient:
    """A ``requests.Session`` with a base URL, timeouts, a rate-limit hook and error mapping.

    Subclasses add one method per endpoint and may override ``auth_headers()``,
    ``raise_for_response()`` and ``error_message()``.
    """

    provider = "generic"

    def __init__(
        self,
        base_url: str,
        *,
        user_agent: str = "Assay",
        timeout: tuple[float, float] | float = DEFAULT_TIMEOUT,
        rate_limiter: RateLimiter | None = None,
        max_attempts: int = 3,
        max_retry_sleep: float = 10.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.rate_limiter = rate_limiter
        self.max_attempts = max(1, max_attempts)
        self.max_retry_sleep = max_retry_sleep
        self.sleep = sleep
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = user_agent
        self.session.headers["Accept"] = "application/json"

    # -- hooks ---------------------------------------------------------------------------------

    def auth_headers(self) -> dict[str, str]:
        """Return headers that authenticate one attempt (re-read on every retry)."""
        return {}

    def raise_for_response(self, response: requests.Response) -> None:
        """Raise the mapped ProviderError for a failed response."""
        raise_for_response(response, self.error_message(response))

    def error_message(self, response: requests.Response) -> str:
        return error_message(response)

    # -- requests ------------------------------------------------------------------------------

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return f"{self.base_url}/{path.lstrip('/')}"

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        authenticate: bool = True,
        idempotent: bool | None = None,
    ) -> requests.Response:
        """Send one logical request, retrying briefly; return the 2xx response or raise."""
        method = method.upper()
        url = self.url(path)
        repeatable = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        attempt = 0
        while True:
            attempt += 1
            if self.rate_limiter is not None:
                self.rate_limiter.acquire()
            merged = dict(self.auth_headers()) if authenticate else {}
            merged.update(headers or {})
            error: ProviderError
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    data=data,
                    headers=merged,
                    timeout=self.timeout,
                )
            except requests.ConnectTimeout as exc:  # never reached the server: always safe
                error, can_repeat = TransientProviderError(f"connect timeout: {exc}"), True
                delay = self._backoff(attempt)
            except (requests.Timeout, requests.ConnectionError) as exc:
                error = TransientProviderError(f"{type(exc).__name__} calling {method} {url}")
                can_repeat, delay = repeatable, self._backoff(attempt)
            except requests.RequestException as exc:  # bad URL, too many redirects, ...
                raise PermanentProviderError(f"{type(exc).__name__}: {exc}") from exc
            else:
                if response.status_code not in RETRYABLE_STATUSES:
                    if not 200 <= response.status_code < 300:
                        self.raise_for_response(response)
                    return response
                error = self._error_for(response)
                can_repeat = repeatable or response.status_code in NOT_PROCESSED_STATUSES
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
                delay = self._backoff(attempt) if retry_after is None else retry_after
                if retry_after is not None and retry_after > self.max_retry_sleep:
                    # Too long to wait in-process: hand the wait to the outbox.
                    raise RateLimited(
                        error.message,
                        retry_after,
                        status_code=response.status_code,
                        code=error.code,
                    ) from error
            if attempt >= self.max_attempts or not can_repeat or delay > self.max_retry_sleep:
                raise error
            logger.info(
                "integrations.%s.http.retry method=%s url=%s attempt=%d delay=%.2f error=%s",
                self.provider,
                method,
                url,
                attempt,
                delay,
                error,
            )
            self.sleep(delay)

    def _error_for(self, response: requests.Response) -> ProviderError:
        try:
            self.raise_for_response(response)
        except ProviderError as exc:
            return exc
        return TransientProviderError("unexpected response", status_code=response.status_code)

    def _backoff(self, attempt: int) -> float:
        base = min(self.max_retry_sleep, 0.5 * 2 ** (attempt - 1))
        return base * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not security

    def request_json(self, method: str, path: str, **kwargs: Any) -> Any:
        """Send a request and decode its JSON body (``None`` for 204 or an empty body)."""
        response = self.request(method, path, **kwargs)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            # A 2xx HTML page is usually a proxy or maintenance page in front of the API.
            raise TransientProviderError(
                f"non-JSON response from {method} {path}", status_code=response.status_code
            ) from exc

    def get_json(self, path: str, **kwargs: Any) -> Any:
        return self.request_json("GET", path, **kwargs)

    def post_json(self, path: str, **kwargs: Any) -> Any:
        return self.request_json("POST", path, **kwargs)

    def put_json(self, path: str, **kwargs: Any) -> Any:
        return self.request_json("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request_json("DELETE", path, **kwargs)

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> BaseClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
