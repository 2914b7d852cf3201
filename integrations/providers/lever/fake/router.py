"""FakeLever: the mixins composed, the route table, and ``dispatch``.

``dispatch(Request) -> Reply`` is the whole HTTP surface, so tests can drive the fake without a
socket; ``server`` only turns HTTP into a ``Request`` and a ``Reply`` back into HTTP.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from .control import Control
from .faults import Faults
from .feedback import Feedback
from .messages import ERROR_CODES, ApiError, Reply, Request
from .page import Page

logger = logging.getLogger("integrations.lever.fake")


class FakeLever(Control, Feedback, Faults, Page):
    """All state and behaviour; ``dispatch(Request) -> Reply`` is the whole HTTP surface."""

    def __init__(self, base_url: str, **options: Any) -> None:
        super().__init__(base_url, **options)
        self.routes = self._routes()

    def _routes(self) -> list[tuple[str, re.Pattern[str], Callable[..., Reply], str | None]]:
        table = [
            ("GET", r"/", self.page_index, None),
            ("GET", r"/(?:oauth/)?authorize", self.oauth_authorize_page, None),
            ("POST", r"/(?:oauth/)?authorize", self.oauth_authorize_decision, None),
            ("POST", r"/oauth/token", self.oauth_token, None),
            ("GET", r"/v1/stages", self.api_stages, "stages:read"),
            ("GET", r"/v1/stages/([^/]+)", self.api_stage, "stages:read"),
            ("GET", r"/v1/postings", self.api_postings, "postings:read"),
            ("GET", r"/v1/postings/([^/]+)", self.api_posting, "postings:read"),
            ("GET", r"/v1/users", self.api_users, "users:read"),
            ("GET", r"/v1/users/([^/]+)", self.api_user, "users:read"),
            ("GET", r"/v1/opportunities", self.api_opportunities, "opportunities:read"),
            ("GET", r"/v1/opportunities/([^/]+)", self.api_opportunity, "opportunities:read"),
            (
                "POST",
                r"/v1/opportunities/([^/]+)/(addTags|removeTags)",
                self.api_tags,
                "opportunities:write",
            ),
            (
                "PUT",
                r"/v1/opportunities/([^/]+)/stage",
                self.api_stage_change,
                "opportunities:write",
            ),
            ("GET", r"/v1/opportunities/([^/]+)/notes", self.api_notes, "notes:read"),
            ("POST", r"/v1/opportunities/([^/]+)/notes", self.api_note_create, "notes:write"),
            ("GET", r"/v1/opportunities/([^/]+)/feedback", self.api_feedback_list, "feedback:read"),
            (
                "POST",
                r"/v1/opportunities/([^/]+)/feedback",
                self.api_feedback_create,
                "feedback:write",
            ),
            (
                "GET",
                r"/v1/opportunities/([^/]+)/feedback/([^/]+)",
                self.api_feedback_get,
                "feedback:read",
            ),
            (
                "PUT",
                r"/v1/opportunities/([^/]+)/feedback/([^/]+)",
                self.api_feedback_update,
                "feedback:write",
            ),
            (
                "DELETE",
                r"/v1/opportunities/([^/]+)/feedback/([^/]+)",
                self.api_feedback_delete,
                "feedback:write",
            ),
            ("GET", r"/v1/feedback_templates", self.api_templates, "feedback_templates:read"),
            (
                "POST",
                r"/v1/feedback_templates",
                self.api_template_create,
                "feedback_templates:write",
            ),
            (
                "GET",
                r"/v1/feedback_templates/([^/]+)",
                self.api_template,
                "feedback_templates:read",
            ),
            (
                "DELETE",
                r"/v1/feedback_templates/([^/]+)",
                self.api_template_delete,
                "feedback_templates:write",
            ),
            ("GET", r"/v1/webhooks", self.api_webhooks, "webhooks:read"),
            ("POST", r"/v1/webhooks", self.api_webhook_create, "webhooks:write"),
            ("DELETE", r"/v1/webhooks/([^/]+)", self.api_webhook_delete, "webhooks:write"),
            ("GET", r"/_control/state", self.ctl_state, None),
            ("POST", r"/_control/reset", self.ctl_reset, None),
            ("POST", r"/_control/opportunities", self.ctl_create_opportunity, None),
            ("POST", r"/_control/opportunities/([^/]+)/stage", self.ctl_move, None),
            ("POST", r"/_control/webhooks/([^/]+)/test", self.ctl_webhook_test, None),
            ("POST", r"/_control/deliveries/([^/]+)/redeliver", self.ctl_redeliver, None),
            ("POST", r"/_control/faults", self.ctl_faults, None),
            ("DELETE", r"/_control/faults", self.ctl_clear_faults, None),
            ("POST", r"/_control/settings", self.ctl_settings, None),
            ("POST", r"/_control/tokens", self.ctl_tokens, None),
            ("POST", r"/_control/expire_tokens", self.ctl_expire_tokens, None),
        ]
        return [(m, re.compile(p + r"/?\Z"), fn, scope) for m, p, fn, scope in table]

    def dispatch(self, req: Request) -> Reply:
        try:
            if req.path.startswith(("/v1/", "/oauth/token")):
                fault = self._take_fault(req)
                if fault is not None:
                    return fault
            with self.lock:
                for method, pattern, handler, scope in self.routes:
                    match = pattern.match(req.path)
                    if match and method == req.method:
                        if scope is not None:
                            self._authorize(req, scope)
                        return handler(req, *match.groups())
            raise ApiError(404, f"No route for {req.method} {req.path}")
        except ApiError as exc:
            body = {"code": ERROR_CODES.get(exc.status, "Error"), "message": exc.message}
            return Reply(exc.status, body, exc.headers)
        except Exception as exc:  # a bug in the fake must still answer, not drop the socket
            logger.exception("fake-lever error on %s %s", req.method, req.path)
            return Reply(500, {"code": "InternalServerError", "message": repr(exc)})
