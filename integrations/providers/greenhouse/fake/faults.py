"""Injected faults: the next N calls to one of the fake's own routes fail, stall, or both.

``POST /_control/faults {"route": "patch", "status": 503, "times": 1, "headers": {...},
"body": ..., "delay": 0}`` so the partner's retry of its completion PATCH can be tested;
``DELETE /_control/faults`` clears them all. A faulted call does not reach the real handler.
"""

from __future__ import annotations

import copy

from integrations.fakekit import ApiError, Reply, Request

from .state import Store

ROUTES = ("patch",)  # the fake's own API: PATCH .../take_home_tests/<id>
MAX_DELAY = 30.0


class Faults(Store):
    def take_fault(self, route: str) -> dict | None:
        with self.lock:
            fault = next((f for f in self.faults if f["route"] == route and f["times"] > 0), None)
            if fault is None:
                return None
            fault["times"] -= 1
            self.faults = [f for f in self.faults if f["times"] > 0]
            return copy.deepcopy(fault)

    def fault_reply(self, fault: dict) -> Reply | None:
        """Wait the fault's delay; then its answer, or None to carry on normally (delay only)."""
        if fault["delay"]:
            self.stopping.wait(fault["delay"])
        if not fault["status"]:
            return None
        return Reply(fault["status"], fault["body"], dict(fault["headers"]))

    def ctl_faults(self, req: Request) -> Reply:
        body = req.json()
        route = body.get("route", "patch")
        if route not in ROUTES:
            raise ApiError(400, f"route must be one of {list(ROUTES)}")
        headers = body.get("headers") or {}
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise ApiError(400, "headers must be an object of strings")
        try:
            fault = {"route": route, "status": int(body.get("status") or 0),
                     "times": int(body.get("times", 1)),
                     "delay": min(max(float(body.get("delay") or 0), 0.0), MAX_DELAY),
                     "headers": headers,
                     "body": body.get("body", {"errors": [{"message": "Injected fault"}]})}
        except (TypeError, ValueError):
            raise ApiError(400, "status, times and delay must be numbers") from None
        if fault["status"] and not 100 <= fault["status"] <= 599:
            raise ApiError(400, "status must be an HTTP status code")
        if not fault["status"] and not fault["delay"]:
            raise ApiError(400, "a fault needs a status, a delay, or both")
        if fault["status"] in (204, 304) or (fault["status"] and fault["status"] < 200):
            fault["body"] = None  # these answers carry no body
        with self.lock:
            self.faults.append(fault)
            return Reply(201, {"faults": copy.deepcopy(self.faults)})

    def ctl_clear_faults(self, req: Request) -> Reply:
        with self.lock:
            self.faults = []
        return Reply(200, {"faults": []})
