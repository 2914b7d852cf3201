"""Injected faults on the fake's own API: the next N callbacks answer a chosen status instead.

``POST /_control/faults {"route": "callback", "status": 503, "times": 1, "headers": {...},
"body": ..., "delay": 0}`` (delay in seconds, at most 30); ``DELETE /_control/faults`` clears them.
"""

from __future__ import annotations

from integrations.fakekit import ApiError, Reply, Request

from .state import Store, workable_error

ROUTES = ("callback",)


class Faults(Store):
    def _take_fault(self, route: str) -> Reply | None:
        with self.lock:
            fault = next((f for f in self.faults if f["route"] == route and f["times"] > 0), None)
            if fault is None:
                return None
            fault["times"] -= 1
            self.faults = [f for f in self.faults if f["times"] > 0]
        if fault["delay"]:
            self.stopping.wait(fault["delay"])
        body = fault["body"]
        if body is None:
            body = workable_error(fault["status"], "Injected fault")
        return Reply(fault["status"], body, dict(fault["headers"]))

    def ctl_faults(self, req: Request) -> Reply:
        body = req.json()
        route = body.get("route") or "callback"
        if route not in ROUTES:
            raise ApiError(400, f"route must be one of {', '.join(ROUTES)} (got {route!r})")
        headers = body.get("headers") or {}
        if not isinstance(headers, dict) or not all(
                isinstance(k, str) and isinstance(v, str | int) for k, v in headers.items()):
            raise ApiError(400, "headers must be an object of strings")
        try:
            fault = {"route": route, "status": int(body.get("status") or 503),
                     "times": int(body.get("times", 1)),
                     "headers": {k: str(v) for k, v in headers.items()},
                     "body": body.get("body"),
                     "delay": min(max(float(body.get("delay") or 0), 0.0), 30.0)}
        except (TypeError, ValueError):
            raise ApiError(400, "status, times and delay must be numbers") from None
        if not 100 <= fault["status"] <= 599:
            raise ApiError(400, "status must be an HTTP status code")
        with self.lock:
            self.faults.append(fault)
        return self._done(req, {"fault": fault}, 201)

    def ctl_clear_faults(self, req: Request) -> Reply:
        with self.lock:
            cleared, self.faults = len(self.faults), []
        return self._done(req, {"cleared": cleared})
