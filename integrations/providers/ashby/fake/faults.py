"""Injected faults on the fake's own API: the next N calls to a route answer something else.

Routes are named ``update`` (assessment.update) and ``addCompleted``. A 429 with
``X-RateLimit-Scope: integration-partner`` is Ashby's partner-wide throttle (brief §7.26); a 429
without it is a per-key throttle. ``delay`` (seconds, at most 30) stalls the answer first, for
timeout tests; a fault with a delay and no status then answers normally.
"""

from __future__ import annotations

from typing import Any

from integrations.fakekit import ApiError, Reply, Request

from .api import CALL_NAMES, envelope_error
from .state import Store

DEFAULT_ERRORS = {429: "rate_limit_exceeded", 500: "internal_server_error",
                  502: "bad_gateway", 503: "service_unavailable", 504: "gateway_timeout"}


class Faults(Store):
    def take_fault(self, route: str) -> Reply | None:
        with self.lock:
            fault = next((f for f in self.faults if f["route"] == route and f["times"] > 0), None)
            if fault is None:
                return None
            fault["times"] -= 1
            fault["used"] += 1
            self.faults = [f for f in self.faults if f["times"] > 0]
        if fault["delay"]:
            self.stopping.wait(fault["delay"])
        if not fault["status"]:
            return None
        body: Any = fault["body"]
        if body is None:
            body = envelope_error(DEFAULT_ERRORS.get(fault["status"], "injected_fault"))
        return Reply(fault["status"], body, dict(fault["headers"]))

    def ctl_faults(self, req: Request) -> Reply:
        spec = req.json()
        route = spec.get("route")
        if route not in CALL_NAMES:
            raise ApiError(400, f"route must be one of {', '.join(CALL_NAMES)}")
        headers = spec.get("headers") or {}
        if req.is_form:  # the HTML page: a status, a count and an optional partner-wide scope
            headers = {"Retry-After": "2"} if spec.get("status") == "429" else {}
            if spec.get("scope") == "integration-partner":
                headers["X-RateLimit-Scope"] = "integration-partner"
        if not isinstance(headers, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
            raise ApiError(400, "headers must be an object of strings")
        try:
            fault = {
                "route": route,
                "status": int(spec.get("status") or 0),
                "times": int(spec.get("times", 1)),
                "headers": headers,
                "body": spec.get("body"),
                "delay": min(max(float(spec.get("delay") or 0), 0.0), 30.0),
                "used": 0,
            }
        except (TypeError, ValueError):
            raise ApiError(400, "status, times and delay must be numbers") from None
        if fault["status"] and not 100 <= fault["status"] <= 599:
            raise ApiError(400, "status must be an HTTP status (100-599)")
        if not fault["status"] and not fault["delay"]:
            raise ApiError(400, "give a status, a delay, or both")
        if fault["times"] < 1:
            raise ApiError(400, "times must be at least 1")
        with self.lock:
            self.faults.append(fault)
        if req.is_form:
            return Reply(303, None, {"Location": "/"})
        return Reply(201, {"fault": fault})

    def ctl_clear_faults(self, req: Request) -> Reply:
        with self.lock:
            cleared, self.faults = len(self.faults), []
        return Reply(200, {"cleared": cleared})
