"""FakeWorkable: the mixins composed, the route table, and ``dispatch``.

``dispatch(Request) -> Reply`` is the whole HTTP surface, so tests can drive the fake without a
socket. Handlers take the lock themselves (never around a call to the partner).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from integrations.fakekit import ApiError, Reply, Request

from .api import Callbacks
from .control import Control
from .page import Page
from .state import workable_error

logger = logging.getLogger("integrations.workable.fake")


class FakeWorkable(Control, Callbacks, Page):
    """All state and behaviour of one fake Workable account (or several sharing tokens)."""

    def __init__(self, site_url: str, **options) -> None:
        super().__init__(site_url, **options)
        self.routes = self._routes()

    def _routes(self) -> list[tuple[str, re.Pattern[str], Callable[..., Reply]]]:
        table = [
            ("GET", r"/", self.page_index),
            ("PUT", r"/assessments/([^/]+)", self.api_callback),
            ("GET", r"/_control/state", self.ctl_state),
            ("POST", r"/_control/configure", self.ctl_configure),
            ("POST", r"/_control/reset", self.ctl_reset),
            ("POST", r"/_control/tests", self.ctl_tests),
            ("POST", r"/_control/assessments", self.ctl_create),
            ("GET", r"/_control/assessments/([^/]+)", self.ctl_assessment),
            ("GET", r"/_control/assessments/([^/]+)/shared-link", self.ctl_shared_link),
            ("POST", r"/_control/assessments/([^/]+)/shared-link", self.ctl_shared_link),
            ("POST", r"/_control/faults", self.ctl_faults),
            ("DELETE", r"/_control/faults", self.ctl_clear_faults),
        ]
        return [(m, re.compile(p + r"/?\Z"), fn) for m, p, fn in table]

    def dispatch(self, req: Request) -> Reply:
        try:
            allowed = []
            for method, pattern, handler in self.routes:
                match = pattern.match(req.path)
                if match and method == req.method:
                    return handler(req, *match.groups())
                if match:
                    allowed.append(method)
            if allowed:
                raise ApiError(405, f"{req.method} is not allowed on {req.path}",
                               {"Allow": ", ".join(allowed)})
            raise ApiError(404, f"No route for {req.method} {req.path}")
        except ApiError as exc:
            if req.is_form and req.path.startswith("/_control/"):  # show it on the page
                with self.lock:
                    self.last_action = {"error": exc.message, "status": exc.status}
                return Reply(303, None, {"Location": "/"})
            return Reply(exc.status, workable_error(exc.status, exc.message), exc.headers)
        except Exception as exc:  # a bug in the fake must still answer, not drop the socket
            logger.exception("fake-workable error on %s %s", req.method, req.path)
            return Reply(500, workable_error(500, f"Fake Workable bug: {exc!r}"))
