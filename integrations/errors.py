"""Error vocabulary shared by every provider client.

Callers decide what to do from the class alone: retry later (transient), give up and show the
error (permanent), or ask the customer to reconnect (auth). Celery tasks use
``autoretry_for=(TransientProviderError,)``; nothing else needs to parse HTTP statuses.
"""

from __future__ import annotations


class ProviderError(Exception):
    """An ATS call failed; ``permanent`` says whether retrying the same call can succeed."""

    permanent: bool = False

    def __init__(
        self,
        message: str = "",
        permanent: bool | None = None,
        *,
        status_code: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if permanent is not None:
            self.permanent = permanent
        self.status_code = status_code
        self.code = code  # the vendor's machine-readable error code, when it sends one

    def __str__(self) -> str:
        prefix = f"HTTP {self.status_code}: " if self.status_code else ""
        return f"{prefix}{self.message}"


class TransientProviderError(ProviderError):
    """Worth retrying later: 5xx, timeouts, connection resets, throttling."""

    permanent = False


class PermanentProviderError(ProviderError):
    """Retrying the same request cannot succeed: bad input, missing permission, vendor rule."""

    permanent = True


class AuthError(ProviderError):
    """The credentials were refused (401, or a refresh token that no longer works).

    Not retryable as is: the client has already tried one token refresh before raising this, so the
    caller should mark the connection as needing a reconnect and keep the work queued.
    """

    permanent = True


class RateLimited(TransientProviderError):
    """The vendor (or our limiter) asked us to slow down; retry after ``retry_after`` seconds."""

    def __init__(
        self,
        message: str = "rate limited",
        retry_after: float | None = None,
        *,
        status_code: int | None = 429,
        code: str | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, code=code)
        self.retry_after = retry_after


class NotFound(PermanentProviderError):
    """The object is gone (deleted, merged, or never existed in this account)."""
