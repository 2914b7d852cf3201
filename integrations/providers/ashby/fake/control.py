"""The /_control routes that tests, benchmarks and the demo page use to drive the fake.

Actions that call the partner answer 200 with what the partner answered (``status``, ``body``)
and the rules it broke (``errors``, also kept in ``violations``); a form post from the HTML page
is sent back to ``/`` with a 303 instead.
"""

from __future__ import annotations

from integrations.fakekit import Reply, Request

from .partner import Partner


class Control(Partner):
    def _done(self, req: Request, body: dict) -> Reply:
        if req.is_form:
            return Reply(303, None, {"Location": "/"})
        return Reply(200, body)

    def ctl_state(self, req: Request) -> Reply:
        return Reply(200, self.snapshot())

    def ctl_configure(self, req: Request) -> Reply:
        changes = req.json()
        if req.is_form:  # empty form fields mean "leave as is"
            changes = {k: v for k, v in changes.items() if v.strip()}
        return self._done(req, {"config": self.configure(changes)})

    def ctl_reset(self, req: Request) -> Reply:
        self.reset()
        return self._done(req, {"ok": True})

    def ctl_list(self, req: Request) -> Reply:
        return self._done(req, self.list_assessment_types())

    def ctl_start(self, req: Request) -> Reply:
        spec = req.json()
        if req.is_form:
            spec = {
                "assessment_type_id": spec.get("assessment_type_id"),
                "application_id": spec.get("application_id"),
                "application_status": spec.get("application_status"),
                "candidate": {k: spec[k] for k in ("first_name", "last_name", "email")
                              if spec.get(k)},
                "job": {"name": spec["job_name"]} if spec.get("job_name") else {},
            }
        return self._done(req, self.start_assessment(spec))

    def ctl_cancel(self, req: Request) -> Reply:
        return self._done(req, self.cancel_assessment(req.json().get("assessment_id")))
