"""The /v1 routes for feedback templates and feedback forms (their rules are in ``rules``)."""

from __future__ import annotations

import uuid

from .api import Api
from .messages import ApiError, Reply, Request, bad, now_ms
from .rules import build_template, feedback_values


class Feedback(Api):
    def api_templates(self, req: Request) -> Reply:
        return self._page_of(req, list(self.templates.values()))

    def api_template(self, req: Request, tid: str) -> Reply:
        if tid not in self.templates:
            raise ApiError(404, f"Feedback template {tid} not found")
        return Reply(200, {"data": self.templates[tid]})

    def api_template_create(self, req: Request) -> Reply:
        template = build_template(str(uuid.uuid4()), req.json())
        self.templates[template["id"]] = template
        self.api_template_ids.add(template["id"])
        return Reply(201, self._shaped(template, "template"))

    def api_template_delete(self, req: Request, tid: str) -> Reply:
        if tid not in self.templates:
            raise ApiError(404, f"Feedback template {tid} not found")
        if tid not in self.api_template_ids:
            raise ApiError(403, "Only feedback templates created through the API can be deleted")
        del self.templates[tid]
        return Reply(204)

    def _feedback(self, oid: str, fid: str) -> dict:
        self._opportunity(oid)
        for form in self.feedback[oid]:
            if form["id"] == fid and not form["deletedAt"]:
                return form
        raise ApiError(404, f"Feedback {fid} not found")

    def api_feedback_list(self, req: Request, oid: str) -> Reply:
        self._opportunity(oid)
        return self._page_of(req, [f for f in self.feedback[oid] if not f["deletedAt"]])

    def api_feedback_get(self, req: Request, oid: str, fid: str) -> Reply:
        return Reply(200, {"data": self._feedback(oid, fid)})

    def api_feedback_create(self, req: Request, oid: str) -> Reply:
        self._opportunity(oid)
        if not req.arg("perform_as"):
            raise bad("perform_as is required to create feedback")
        user = self._user(req.arg("perform_as"))
        body = req.json()
        template = self.templates.get(body.get("baseTemplateId") or "")
        if template is None:
            raise bad(f"baseTemplateId {body.get('baseTemplateId')!r} is not a feedback template")
        if ("panel" in body) != ("interview" in body):
            raise bad("panel and interview must be sent together or not at all")
        values = feedback_values(template, body.get("fieldValues", []))
        ts = now_ms()
        form = {
            "id": str(uuid.uuid4()),
            "type": "interview",
            "text": template["text"],
            "instructions": template["instructions"],
            "baseTemplateId": template["id"],
            "fields": [{**f, "value": values.get(f["id"])} for f in template["fields"]],
            "user": user["id"],
            "panel": body.get("panel"),
            "interview": body.get("interview"),
            "createdAt": body.get("createdAt", ts),
            "updatedAt": ts,
            "completedAt": body.get("completedAt", ts),
            "deletedAt": None,
        }
        self.feedback[oid].append(form)
        return Reply(201, self._shaped(form, "feedback"))

    def api_feedback_update(self, req: Request, oid: str, fid: str) -> Reply:
        if not req.arg("perform_as"):
            raise bad("perform_as is required to update feedback")
        self._user(req.arg("perform_as"))
        form = self._feedback(oid, fid)
        body = req.json()
        # Fields left out are cleared: Lever's semantics are unconfirmed, so send them all.
        template = {"id": form["baseTemplateId"], "fields": form["fields"]}
        values = feedback_values(template, body.get("fieldValues", []))
        form["fields"] = [{**f, "value": values.get(f["id"])} for f in form["fields"]]
        form["updatedAt"] = now_ms()
        form["completedAt"] = body.get("completedAt", form["completedAt"])
        return Reply(200, {"data": form})

    def api_feedback_delete(self, req: Request, oid: str, fid: str) -> Reply:
        if not req.arg("perform_as"):
            raise bad("perform_as is required to delete feedback")
        self._user(req.arg("perform_as"))
        self._feedback(oid, fid)["deletedAt"] = now_ms()
        return Reply(204)
