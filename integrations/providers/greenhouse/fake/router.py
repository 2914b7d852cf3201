"""FakeGreenhouse: the mixins composed, the route table, and ``dispatch``.

``dispatch(Request) -> Reply`` is the whole HTTP surface, so tests can drive the fake without a
socket. Errors use Greenhouse's shape ``{"errors": [{"message": ...}]}``; a bug in the fake answers
500 with a message. Handlers take the lock themselves and never hold it while calling the partner.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from integrations.fakekit import ApiError, Reply, Request

from .control import Control
from .page import Page

logger = logging.getLogger("integrations.greenhouse.fake")
TAKE_HOME = r"/integrations/testing_partners/take_home_tests/([^/]+)"


def _summary(body: Any) -> str:
    """One line for the page after a form post."""
    if not isinstance(body, dict) or "errors" not in body or "status" not in body:
        return "Done."
    errors = body["errors"]
    return f"The partner answered HTTP {body['status']}" + (
        f"; rules broken: {'; '.join(errors)}" if errors else "; all rules kept.")


class FakeGreenhouse(Control, Page):
    """All state and behaviour; ``dispatch(Request) -> Reply`` is the whole HTTP surface."""

    def __init__(self, base_url: str, **options: Any) -> None:
        super().__init__(base_url, **options)
        self.routes = self._routes()

    def _routes(self) -> list[tuple[str, re.Pattern[str], Callable[..., Reply]]]:
        table = [
            ("GET", r"/", self.page_index),
            ("GET", r"/people/(\d+)", self.page_person),
            ("GET", r"/resumes/(\d+)", self.page_resume),
            ("PATCH", TAKE_HOME, self.api_patch),
            ("*", TAKE_HOME, self.api_not_patch),
            ("GET", r"/_control/state", self.ctl_state),
            ("POST", r"/_control/configure", self.ctl_configure),
            ("POST", r"/_control/reset", self.ctl_reset),
            ("POST", r"/_control/list_tests", self.ctl_list_tests),
            ("POST", r"/_control/send_test", self.ctl_send_test),
            ("POST", r"/_control/test_status", self.ctl_test_status),
            ("POST", r"/_control/response_error", self.ctl_response_error),
            ("POST", r"/_control/faults", self.ctl_faults),
            ("DELETE", r"/_control/faults", self.ctl_clear_faults),
        ]
        return [(m, re.compile(p + r"/?\Z"), fn) for m, p, fn in table]

    def dispatch(self, req: Request) -> Reply:
        form = req.is_form and req.path.startswith("/_control/")
        try:
            for method, pattern, handler in self.routes:
                match = pattern.match(req.path)
                if match and method in (req.method, "*"):
                    reply = handler(req, *match.groups())
                    if form:  # a button on the page: back to it, with what happened
                        return self._back(_summary(reply.body))
                    return reply
            raise ApiError(404, f"No route for {req.method} {req.path}")
        except ApiError as exc:
            if form:
                return self._back(f"Refused ({exc.status}): {exc.message}")
            return Reply(exc.status, {"errors": [{"message": exc.message}]}, exc.headers)
        except Exception as exc:  # a bug in the fake must still answer, not drop the socket
            logger.exception("fake-greenhouse error on %s %s", req.method, req.path)
            return Reply(500, {"errors": [{"message": f"Fake Greenhouse bug: {exc!r}"}]})

    @staticmethod
    def _back(message: str) -> Reply:
        return Reply(303, None, {"Location": "/?" + urlencode({"message": message[:500]})})
