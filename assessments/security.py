"""Headers of every candidate page: no caching, a strict CSP, no framing, a tight referrer policy.

Referrer policy: the token URL (`/a/<token>`, a redirect) sends `no-referrer`, so the token never
leaves in a Referer header. The token-free pages send `same-origin`: with `no-referrer` Chromium
sends `Origin: null` on same-site form posts, which Django's CSRF check rightly refuses, and those
pages have nothing to hide from their own origin (links elsewhere get no referrer either way).

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
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def protect(response, *, referrer_policy: str | None = None):
    for name, value in HEADERS.items():
        response[name] = value
    if referrer_policy:
        response["Referrer-Policy"] = referrer_policy
    return response


def candidate_headers(view):
    """Decorate a view so that every response it returns carries HEADERS."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        return protect(view(request, *args, **kwargs))

    return wrapper
