"""The route Workable hosts: ``PUT <callback_url>`` (``/assessments/<id>``), where the provider
reports status changes and results with the *Workable-issued* Bearer token.

Every callback is kept, valid or not; the assessment only changes on a valid one. Presenting the
provider token here is the classic mix-up (brief §7.27) and is named as such.
"""

from __future__ import annotations

import json
from typing import Any

from integrations.fakekit import ApiError, Reply, Request, now_ms

from .rules import check_callback
from .state import Store, workable_error

HEADERS_OF_INTEREST = ("authorization", "content-type", "user-agent", "idempotency-key")


class Callbacks(Store):
    def _callback_token(self, req: Request, record: dict | None) -> list[str]:
        """Why the Authorization header is refused (empty when it is fine)."""
        auth = req.headers.get("authorization", "").strip()
        if not auth:
            return ["no Authorization header on the callback (expected Bearer <Workable token>)"]
        scheme, _, token = auth.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return [f"the callback must use Authorization: Bearer <Workable token> (got a "
                    f"{scheme!r} header)"]
        accepted = self.config["workable_tokens"]
        if record is not None and record.get("workable_token"):
            accepted = [record["workable_token"]]
        if token in accepted:
            return []
        if token == self.config["provider_token"]:
            return ["provider token used on the callback: send the Workable-issued token, not "
                    "the one Workable presents to you (brief §7.27)"]
        if token in self.config["workable_tokens"]:
            return ["the callback presented another account's Workable token"]
        return ["wrong Workable token on the callback"]

    def _callback_body(self, req: Request) -> Any:
        try:
            return json.loads(req.body) if req.body.strip() else None
        except ValueError:
            return req.body.decode(errors="replace")[:2000]

    def api_callback(self, req: Request, aid: str) -> Reply:
        call = f"PUT /assessments/{aid}"
        body = self._callback_body(req)
        entry = {"at_ms": now_ms(), "id": aid, "body": body,
                 "headers": {k: req.headers[k] for k in HEADERS_OF_INTEREST if k in req.headers},
                 "answer": None, "errors": []}
        fault = self._take_fault("callback")
        if fault is not None:
            self.remember(self.received, {**entry, "answer": fault.status, "fault": True})
            return fault
        with self.lock:
            record = self.assessments.get(aid)
            try:
                reply = self._judge_callback(req, aid, record, body, entry)
            except ApiError as exc:
                entry["errors"] = [exc.message]
                self.violation(call, [exc.message])
                reply = Reply(exc.status, workable_error(exc.status, exc.message))
            entry["answer"] = reply.status
            self.remember(self.received, entry)
            if record is not None:
                record["callbacks"].append(entry)
            return reply

    def _judge_callback(self, req: Request, aid: str, record: dict | None, body: Any,
                        entry: dict) -> Reply:
        refused = self._callback_token(req, record)
        if refused:
            raise ApiError(401, refused[0])
        if record is None:
            raise ApiError(404, f"No assessment {aid} (the callback_url is not one Workable gave)")
        if not isinstance(body, dict):
            raise ApiError(400, "The callback body must be a JSON object")
        hard, soft = check_callback(body, record["status"])
        if not req.headers.get("content-type", "").startswith("application/json"):
            soft.append("the callback should be sent with Content-Type: application/json")
        entry["errors"] = hard + soft
        self.violation(f"PUT /assessments/{aid}", hard + soft)
        if hard:
            return Reply(422, workable_error(422, "; ".join(hard)))
        record["status"] = body["status"]
        for key in ("results_url", "assessment", "attachments"):
            if body.get(key) is not None:
                record[key] = body[key]
        record["updated_at_ms"] = entry["at_ms"]
        return Reply(200, {})
