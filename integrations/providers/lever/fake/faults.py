"""Injected faults: the next N matching /v1 or token calls fail, stall, or both.

Set through ``POST /_control/faults`` with status, count, a path regex (or list of them), an
optional method, ``retry_after`` and a delay of up to 30 seconds; ``DELETE`` clears them all.
"""

from __future__ import annotations

import re

from .messages import ERROR_CODES, Reply, Request, bad
from .state import Store


class Faults(Store):
    def _take_fault(self, req: Request) -> Reply | None:
        with self.lock:
            fault = next(
                (
                    f
                    for f in self.faults
                    if f["count"] > 0
                    and (not f["method"] or f["method"] == req.method)
                    and re.search(f["paths"], req.path)
                ),
                None,
            )
            if fault is None:
                return None
            fault["count"] -= 1
            self.faults = [f for f in self.faults if f["count"] > 0]
        if fault["delay"]:
            self.stopping.wait(fault["delay"])
        if not fault["status"]:
            return None
        headers = {}
        if fault["retry_after"] is not None:
            headers["Retry-After"] = str(fault["retry_after"])
        body = {"code": ERROR_CODES.get(fault["status"], "Error"), "message": "Injected fault"}
        return Reply(fault["status"], body, headers)

    def ctl_faults(self, req: Request) -> Reply:
        body = req.json()
        paths = body.get("paths") or r"^/"
        if isinstance(paths, list):
            paths = "|".join(f"(?:{p})" for p in paths)
        try:
            re.compile(paths)
        except re.error as exc:
            raise bad(f"paths is not a valid regex: {exc}") from None
        try:
            fault = {
                "status": int(body.get("status") or 0),
                "count": int(body.get("count", 1)),
                "paths": paths,
                "method": (body.get("method") or "").upper() or None,
                "retry_after": body.get("retry_after"),
                "delay": min(float(body.get("delay") or 0), 30.0),
            }
        except (TypeError, ValueError):
            raise bad("status, count and delay must be numbers") from None
        self.faults.append(fault)
        return Reply(201, {"data": fault})

    def ctl_clear_faults(self, req: Request) -> Reply:
        self.faults = []
        return Reply(204)
