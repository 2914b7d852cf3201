"""FakeAshby: the mixins composed, the route table, and ``dispatch``.

``dispatch(Request) -> Reply`` is the whole HTTP surface, so tests can drive the fake without a
socket. Handlers take the lock themselves (the partner calls must run without it); errors answer
in Ashby's envelope ``{"success": false, "errors": [...]}``, and a bug in the fake answers 500.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from integrations.fakekit import ApiError, Reply, Request, now_ms

from .api import Api, envelope_error, headers_of_interest
from .control import Control
from .faults import Faults
from .page import Page

logger = logging.getLogger("integrations.ashby.fake")


class FakeAshby(Control, Api, Faults, Page):
    """All state and behaviour of the fake Ashby."""

    def __init__(self, base_url: str, **options: object) -> None:
        super().__init__(base_url, **options)
        table: list[tuple[str, str, Callable[..., Reply], str | None]] = [
            ("GET", r"/", self.page_index, None),
            ("POST", r"/assessment\.update", self.api_update, "update"),
            ("POST", r"/assessment\.addCompletedToCandidate", self.api_add_completed,
             "addCompleted"),
            ("GET", r"/_control/state", self.ctl_state, None),
            ("POST", r"/_control/configure", self.ctl_configure, None),
            ("POST", r"/_control/reset", self.ctl_reset, None),
            ("POST", r"/_control/faults", self.ctl_faults, None),
            ("DELETE", r"/_control/faults", self.ctl_clear_faults, None),
            ("POST", r"/_control/list", self.ctl_list, None),
            ("POST", r"/_control/start", self.ctl_start, None),
            ("POST", r"/_control/cancel", self.ctl_cancel, None),
        ]
        self.routes = [(m, re.compile(p + r"/?\Z"), fn, fault) for m, p, fn, fault in table]

    def dispatch(self, req: Request) -> Reply:
        try:
            allowed = []
            for method, pattern, handler, fault_route in self.routes:
                if not pattern.match(req.path):
                    continue
                if method != req.method:
                    allowed.append(method)
                    continue
                if fault_route is not None:
                    fault = self.take_fault(fault_route)
                    if fault is not None:
                        self.log(self.received, {
                            "at_ms": now_ms(), "route": fault_route, "status": fault.status,
                            "headers": headers_of_interest(req), "fault": True,
                            "body": req.body.decode(errors="replace")[:4000], "errors": []})
                        return fault
                return handler(req)
            if allowed:
                raise ApiError(405, f"{req.path} takes {', '.join(allowed)}, not {req.method}")
            raise ApiError(404, f"No route for {req.method} {req.path}")
        except ApiError as exc:
            return Reply(exc.status, envelope_error(exc.message), exc.headers)
        except Exception as exc:  # a bug in the fake must still answer, not drop the socket
            logger.exception("fake-ashby error on %s %s", req.method, req.path)
            return Reply(500, envelope_error(f"fake Ashby bug: {exc!r}"))
