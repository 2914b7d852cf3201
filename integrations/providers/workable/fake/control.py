"""The /_control routes that tests and the demo use to drive the fake (faults are in ``faults``).

Actions that call the partner answer ``{"status", "body", "errors", ...}``: what the partner
answered, parsed, and the rules it broke (also kept in ``state.violations``).
"""

from __future__ import annotations

import copy

from integrations.fakekit import ApiError, Reply, Request

from .faults import Faults
from .partner import Partner

CANDIDATE_FIELDS = ("first_name", "last_name", "email", "phone")


class Control(Partner, Faults):
    def state(self) -> dict:
        with self.lock:
            return copy.deepcopy({
                "config": self.config,
                "site_url": self.site_url,
                "tests": self.tests,
                "assessments": list(self.assessments.values()),
                "calls": self.calls,
                "received": self.received,
                "violations": self.violations,
                "faults": self.faults,
            })

    def ctl_state(self, req: Request) -> Reply:
        return Reply(200, self.state())

    def ctl_configure(self, req: Request) -> Reply:
        body = req.json()
        if req.is_form:  # the page's form: blank fields mean "leave as is"
            body = {k: v for k, v in body.items() if v.strip()}
        return self._done(req, {"config": self.configure(body)})

    def ctl_reset(self, req: Request) -> Reply:
        self.reset()
        return self._done(req, {"ok": True})

    def ctl_tests(self, req: Request) -> Reply:
        return self._done(req, self.list_tests(req.json()))

    def ctl_create(self, req: Request) -> Reply:
        spec = req.json()
        if req.is_form:  # flat fields from the page; blanks fall back to the defaults
            spec = {k: v for k, v in spec.items() if v.strip()}
            candidate = {k: spec.pop(k) for k in CANDIDATE_FIELDS if k in spec}
            spec["candidate"] = candidate
        if "test_id" in spec and isinstance(spec["test_id"], bool | float | dict | list):
            raise ApiError(400, "test_id must be a string or an integer")
        return self._done(req, self.create_assessment(spec))

    def ctl_assessment(self, req: Request, aid: str) -> Reply:
        with self.lock:
            return Reply(200, copy.deepcopy(self.assessment(aid)))

    def ctl_shared_link(self, req: Request, aid: str) -> Reply:
        opts = req.json() if req.method == "POST" else {"auth": req.arg("auth"),
                                                        "token": req.arg("token")}
        return self._done(req, self.shared_link(aid, opts))
