"""Request, Reply, ApiError and the millisecond clock (shared by every fake: integrations.fakekit),
and Lever's error codes."""

from __future__ import annotations

from integrations.fakekit import ApiError, Reply, Request, now_ms

__all__ = ["ERROR_CODES", "ApiError", "Reply", "Request", "bad", "now_ms"]

ERROR_CODES = {
    400: "BadRequestError",
    401: "UnauthorizedError",
    403: "ForbiddenError",
    404: "ResourceNotFound",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
}


def bad(message: str) -> ApiError:
    return ApiError(400, message)
