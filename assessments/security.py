"""Headers of every candidate page: no caching, a strict CSP, no referrer, no framing.

Applied by the candidate views themselves (assessments/views/candidate.py) rather than a global
middleware, so the console and the APIs keep their own policies.
"""

from __future__ import annotations

from functools import wraps

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
])

HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def protect(response):
    for name, value in HEADERS.items():
        response[name] = value
    return response


def candidate_headers(view):
    """Decorate a view so that every response it returns carries HEADERS."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        return protect(view(request, *args, **kwargs))

    return wrapper
