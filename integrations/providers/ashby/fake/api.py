"""The routes real Ashby hosts (``https://api.ashbyhq.com``) that the partner calls.

``assessment.update`` is where results land, so it checks what the brief says Ashby (or the
Cloudflare in front of it) checks: a real User-Agent, Basic auth with a customer API key as the
username, ``Accept: application/json; version=1``, a JSON body, and the body rules in ``rules``.
Domain errors answer ``200 {"success": false, "errors": [...]}`` as Ashby's API does.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from integrations.fakekit import Reply, Request, now_ms

from . import rules
from .state import Store

CALL_NAMES = {"update": "assessment.update", "addCompleted": "assessment.addCompletedToCandidate"}


def envelope_error(*errors: str) -> dict:
    return {"success": False, "errors": list(errors)}


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(username, password) from an ``Authorization: Basic`` header, or None."""
    scheme, _, token = (header or "").strip().partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        return None
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, _, password = decoded.partition(":")
    return username, password


def headers_of_interest(req: Request) -> dict[str, Any]:
    creds = basic_credentials(req.headers.get("authorization"))
    return {
        "user-agent": req.headers.get("user-agent"),
        "accept": req.headers.get("accept"),
        "content-type": req.headers.get("content-type"),
        "auth_username": creds[0] if creds else None,
        "auth_password_empty": (creds[1] == "") if creds else None,
        "x-request-id": req.headers.get("x-request-id"),
    }


class Api(Store):
    def _received(self, route: str, req: Request, status: int, body: Any,
                  errors: list[str], **extra: Any) -> None:
        self.log(self.received, {"at_ms": now_ms(), "route": route, "status": status,
                                 "headers": headers_of_interest(req), "body": body,
                                 "errors": errors, **extra})

    def _guard(self, route: str, req: Request) -> tuple[Reply | None, Any]:
        """Cloudflare, auth, Accept and JSON checks; (a refusal, None) or (None, the body)."""
        call = CALL_NAMES[route]

        def refuse(status: int, error: str, body: Any = None) -> tuple[Reply, None]:
            self.violate(call, [error])
            self._received(route, req, status, req.body.decode(errors="replace")[:4000],
                           [error])
            return Reply(status, envelope_error(error) if body is None else body), None

        why = rules.check_user_agent(req.headers.get("user-agent"))
        if why:
            return refuse(403, f"Cloudflare error 1010: {why} (brief §7.19)",
                          "error code: 1010")
        creds = basic_credentials(req.headers.get("authorization"))
        if creds is None or not creds[0]:
            return refuse(401, "Missing API key: send the customer's Ashby API key as the "
                               "HTTP Basic username with an empty password")
        if creds[0] not in self.config["api_keys"]:
            return refuse(403, "invalid_api_key: the Basic username is not an Ashby API key "
                               "of this organization")
        if not rules.accepts_version_1(req.headers.get("accept")):
            return refuse(400, "The Accept header must be 'application/json; version=1', not "
                               f"{req.headers.get('accept')!r}")
        if not req.headers.get("content-type", "").lower().startswith("application/json"):
            return refuse(400, "The Content-Type must be application/json, not "
                               f"{req.headers.get('content-type')!r}")
        try:
            body = json.loads(req.body)
        except ValueError as exc:
            return refuse(400, f"The body is not JSON: {exc}")
        if creds[1]:
            self.violate(call, ["the Basic password should be empty (the key is the username)"])
        return None, body

    def api_update(self, req: Request) -> Reply:
        refusal, body = self._guard("update", req)
        if refusal is not None:
            return refusal
        errors = self.accept_update(body, source="assessment.update",
                                    headers=headers_of_interest(req))
        self._received("update", req, 200, body, errors)
        if errors:
            return Reply(200, envelope_error(*errors))
        return Reply(200, {"success": True})

    def accept_update(self, body: Any, *, source: str, headers: dict | None = None) -> list[str]:
        """Validate an assessment.update body and apply it; the errors (also recorded)."""
        with self.lock:
            aid = body.get("assessment_id") if isinstance(body, dict) else None
            record = self.assessments.get(aid) if isinstance(aid, str) else None
            if record is not None and source != "assessment.update" and any(
                    u["body"] == body for u in record["updates"]):
                return []  # the same update_request again (an idempotent start's replay)
            errors = rules.check_update(body, self.last_timestamp(record) if record else None)
            if record is None and rules.is_text(aid):
                errors.insert(0, "assessment_not_found")
            if errors:
                if source == "assessment.update":  # an update_request's caller records its own
                    self.violate(source, errors)
                return errors
            self._apply(record, body, source, headers)
            return []

    def _apply(self, record: dict, body: dict, source: str, headers: dict | None) -> None:
        record["updates"].append({"at_ms": now_ms(), "source": source, "headers": headers or {},
                                  "body": body})
        if "assessment_status" in body:
            record["status"] = body["assessment_status"]["value"]
            if body["assessment_status"]["value"] == "Started":
                record["started_at_ms"] = body["timestamp"]
        if "assessment_result" in body:
            record["result"] = body["assessment_result"]
            record["completed"] = True
        if "assessment_profile_url" in body:
            record["profile_url"] = body["assessment_profile_url"]["value"]
        if "metadata" in body:
            record["metadata"] = body["metadata"]
        if "cancelled_reason" in body:
            record["cancelled_reason"] = body["cancelled_reason"]
            record["cancelled"] = True
            record["cancelled_by"] = "partner"

    def api_add_completed(self, req: Request) -> Reply:
        refusal, body = self._guard("addCompleted", req)
        if refusal is not None:
            return refusal
        errors = rules.check_add_completed(body)
        with self.lock:
            if not errors and body["candidateId"] not in self.candidates:
                errors = ["candidate_not_found"]
            if errors:
                self.violate(CALL_NAMES["addCompleted"], errors)
                self._received("addCompleted", req, 200, body, errors)
                return Reply(200, envelope_error(*errors))
            assessment = body["assessment"]
            results = {
                "applicationId": None,
                "assessmentId": assessment["assessmentId"],
                "assessmentName": assessment["assessmentName"],
                "assessmentTypeId": assessment["assessmentTypeId"],
                "candidateId": body["candidateId"],
                "metadata": assessment["metadata"],
                "result": assessment["result"],
            }
            self.completed_to_candidate.append({"at_ms": now_ms(), "body": body,
                                                "headers": headers_of_interest(req)})
            self._received("addCompleted", req, 200, body, [])
        return Reply(200, {"success": True, "results": results})
