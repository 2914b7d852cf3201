"""The /_control routes that tests and the demo use to drive the fake (faults are in ``faults``).

Each action that calls the partner answers ``{"status", "body", "errors", ...}``: what the partner
said and the rules it broke (also kept in the state's ``exchanges`` and ``violations``).
"""

from __future__ import annotations

import json
from typing import Any

from integrations.fakekit import ApiError, Reply, Request

from .api import Api
from .partner import Partner

CANDIDATE_FORM_FIELDS = ("first_name", "last_name", "preferred_name", "email", "phone_number")


def _expect(body: dict) -> int | None:
    value = body.get("expect")
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, "expect must be an HTTP status code") from None


class Control(Api, Partner):
    def snapshot(self) -> dict[str, Any]:
        """Everything, copied under the lock (threads keep writing while it is serialised)."""
        with self.lock:
            return json.loads(json.dumps({
                "config": self.config_view(),
                "tests": self.tests,
                "candidates": [{"id": cid, **c} for cid, c in self.candidates.items()],
                "applications": list(self.applications.values()),
                "take_home_tests": list(self.take_home_tests.values()),
                "exchanges": self.exchanges,
                "received": self.received,
                "violations": self.violations,
                "faults": self.faults,
            }))

    def ctl_state(self, req: Request) -> Reply:
        return Reply(200, self.snapshot())

    def ctl_configure(self, req: Request) -> Reply:
        body = req.json()
        if req.is_form:  # the page's form: blank fields mean "leave as is"
            body = {k: v for k, v in body.items() if v.strip()}
        return Reply(200, {"config": self.configure(body)})

    def ctl_reset(self, req: Request) -> Reply:
        body = req.json()
        self.reset(config=body.get("config") in (True, "true", "1"))
        return Reply(200, {"ok": True, "config": self.config_view()})

    def ctl_list_tests(self, req: Request) -> Reply:
        body = req.json()
        return Reply(200, self.list_tests(expect=_expect(body) or 200))

    def ctl_send_test(self, req: Request) -> Reply:
        body = req.json()
        candidate = body.get("candidate") or {}
        sent_by = body.get("sent_by", "recruiter@greenhouse.fake")
        if req.is_form:
            candidate = {k: body[k] for k in CANDIDATE_FORM_FIELDS if body.get(k, "").strip()}
            sent_by = body.get("sent_by") or "recruiter@greenhouse.fake"
        extra = body.get("extra")
        if extra is not None and not isinstance(extra, dict):
            raise ApiError(400, "extra must be an object of fields to add to the body")
        return Reply(200, self.send_test(
            body.get("partner_test_id"), candidate=candidate, sent_by=sent_by,
            application_id=body.get("application_id"), extra=extra,
            expect=_expect(body) or 200))

    def ctl_test_status(self, req: Request) -> Reply:
        body = req.json()
        return Reply(200, self.test_status(body.get("partner_interview_id"),
                                           expect=_expect(body)))

    def ctl_response_error(self, req: Request) -> Reply:
        body = req.json()
        if req.is_form:
            body["errors"] = [line for line in body.get("errors", "").splitlines() if line.strip()]
        if not isinstance(body.get("api_call"), str) or not body["api_call"]:
            raise ApiError(400, "api_call is required (list_tests, send_test or test_status)")
        errors = body.get("errors")
        if not isinstance(errors, list) or not all(isinstance(e, str) for e in errors):
            raise ApiError(400, "errors must be a list of strings")
        optional = dict.fromkeys(("partner_test_id", "partner_test_name", "partner_interview_id",
                                  "candidate_email"))  # Greenhouse sends missing values as null
        return Reply(200, self.post_response_error({**optional, **body}))
