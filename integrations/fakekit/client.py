"""How a fake ATS calls the partner (us): urllib, a timeout, and everything recorded."""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CallResult:
    """What the partner answered; ``error`` is set when there was no HTTP answer at all."""

    method: str
    url: str
    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    text: str = ""
    error: str = ""
    duration_ms: int = 0

    def json(self) -> Any:
        """The parsed body, or raise ValueError with a readable reason."""
        if not self.text.strip():
            raise ValueError("the response body is empty")
        return json.loads(self.text)

    def as_dict(self) -> dict:
        return {"method": self.method, "url": self.url, "status": self.status,
                "body": self.text[:4000], "error": self.error, "duration_ms": self.duration_ms}


def basic_auth(username: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def call(method: str, url: str, *, body: Any = None, headers: dict[str, str] | None = None,
         timeout: float = 10.0) -> CallResult:
    """One HTTP call to the partner; never raises for HTTP or network errors."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("User-Agent", "assay-fake-ats/1")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            status, got, text = response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as exc:
        status, got = exc.code, dict(exc.headers or {})
        text = exc.read().decode(errors="replace")
    except (urllib.error.URLError, OSError) as exc:
        return CallResult(method, url, None, error=str(getattr(exc, "reason", exc)),
                          duration_ms=int((time.monotonic() - started) * 1000))
    return CallResult(method, url, status, {k.lower(): v for k, v in got.items()}, text,
                      duration_ms=int((time.monotonic() - started) * 1000))
