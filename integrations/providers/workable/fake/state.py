"""The in-memory store behind one lock: config, assessments, what went out, what came in.

Every mixin in this package subclasses ``Store``; ``router.FakeWorkable`` composes them. Calls to
the partner are made *outside* the lock, because the partner may PUT a callback to us while it is
still answering our POST /assessments (W2 sends ``pending`` straight away).
"""

from __future__ import annotations

import threading
from typing import Any

from integrations.fakekit import ApiError, Reply, Request, now_ms

DEFAULT_PROVIDER_TOKEN = "wk-fake-provider-token"
DEFAULT_WORKABLE_TOKEN = "wk-fake-callback-token"
DEFAULT_SUBDOMAIN = "acme"
HISTORY = 1000  # the most calls/callbacks/violations kept; benchmarks must not grow memory forever


def workable_error(status: int, message: str) -> dict:
    """Workable's error body (brief §5.2): the shape the fake answers and expects back."""
    return {"status": status, "message": message}


class Store:
    def __init__(self, site_url: str, *, partner_url: str | None = None,
                 provider_token: str = DEFAULT_PROVIDER_TOKEN,
                 workable_tokens: list[str] | tuple[str, ...] | str | None = None,
                 subdomain: str = DEFAULT_SUBDOMAIN, timeout: float = 10.0) -> None:
        self.site_url = site_url.rstrip("/")
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.timeout = timeout
        self.config: dict[str, Any] = {}
        self.configure({
            "partner_url": partner_url,
            "provider_token": provider_token,
            "workable_tokens": [DEFAULT_WORKABLE_TOKEN] if workable_tokens is None
            else workable_tokens,
            "subdomain": subdomain,
        })
        self.reset()

    def reset(self) -> None:
        """Forget everything but the config (the "connection" survives a reset)."""
        with self.lock:
            self.tests: list[dict] | None = None  # the partner's last valid /tests answer
            self.assessments: dict[str, dict] = {}
            self.calls: list[dict] = []  # what the fake sent the partner and what came back
            self.received: list[dict] = []  # every callback PUT the fake got
            self.violations: list[dict] = []
            self.faults: list[dict] = []
            self.last_action: dict | None = None  # for the HTML page
            self.counter = 0

    def configure(self, body: dict) -> dict:
        unknown = set(body) - {"partner_url", "provider_token", "workable_tokens", "subdomain"}
        if unknown:
            raise ApiError(400, f"Unknown settings {sorted(unknown)}")
        new = dict(self.config)
        if "partner_url" in body:
            url = body["partner_url"] or None
            if url is not None and (not isinstance(url, str)
                                    or not url.startswith(("http://", "https://"))):
                raise ApiError(400, "partner_url must be an absolute http(s) URL")
            new["partner_url"] = url.rstrip("/") if url else None
        if "provider_token" in body:
            token = body["provider_token"]
            if not isinstance(token, str) or not token.strip():
                raise ApiError(400, "provider_token must be a non-empty string")
            new["provider_token"] = token.strip()
        if "workable_tokens" in body:
            tokens = body["workable_tokens"]
            if isinstance(tokens, str):  # one token, or the HTML form's comma-separated list
                tokens = [t.strip() for t in tokens.split(",")]
            if (not isinstance(tokens, list | tuple) or not tokens
                    or not all(isinstance(t, str) and t.strip() for t in tokens)):
                raise ApiError(400, "workable_tokens must be a non-empty list of strings")
            new["workable_tokens"] = [t.strip() for t in tokens]
        if "subdomain" in body:
            sub = body["subdomain"]
            if not isinstance(sub, str) or not sub.strip() or "/" in sub:
                raise ApiError(400, "subdomain must be a non-empty string without '/'")
            new["subdomain"] = sub.strip()
        with self.lock:
            self.config = new
        return dict(new)

    def new_assessment_id(self) -> str:
        with self.lock:
            self.counter += 1
            return f"{self.config['subdomain']}-{8823118 + self.counter}"

    def violation(self, call: str, errors: list[str]) -> None:
        if errors:
            with self.lock:
                self.violations.append({"at_ms": now_ms(), "call": call, "errors": list(errors)})
                del self.violations[:-HISTORY]

    def remember(self, kind: list[dict], entry: dict) -> None:
        with self.lock:
            kind.append(entry)
            del kind[:-HISTORY]

    def assessment(self, aid: str) -> dict:
        record = self.assessments.get(aid)
        if record is None:
            raise ApiError(404, f"Assessment {aid} not found")
        return record

    def by_callback_url(self, url: str) -> dict | None:
        return next((a for a in self.assessments.values() if a["callback_url"] == url), None)

    def _done(self, req: Request, body: dict, status: int = 200) -> Reply:
        """JSON for tests; back to the page (303) for a form on it."""
        if req.is_form:
            return Reply(303, None, {"Location": "/"})
        return Reply(status, body)
