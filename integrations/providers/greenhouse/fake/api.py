"""The route Greenhouse hosts for the partner: the completion PATCH (brief §3.3, pitfall 16).

``PATCH /integrations/testing_partners/take_home_tests/<id>`` with Basic ``<key>:`` and no body.
The fake answers only a status code (200 by default; 204 with ``patch_status``, UNCONFIRMED), then
in a background thread reads the partner's ``test_status`` like Greenhouse does. Any other method
on that path is refused 405 (and flagged, unless it is a GET): the callback is a PATCH.
"""

from __future__ import annotations

import base64
import binascii

from integrations.fakekit import ApiError, Reply, Request, now_ms

from .faults import Faults
from .partner import Partner


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(username, password) from a Basic header, or None when it is missing or malformed."""
    scheme, _, encoded = (header or "").partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None


class Api(Partner, Faults):
    def _received(self, req: Request, tid: str) -> dict:
        return self.keep(self.received, {
            "at_ms": now_ms(), "route": "patch", "method": req.method, "path": req.path,
            "take_home_test_id": tid, "authorization": req.headers.get("authorization"),
            "body": req.body.decode(errors="replace")[:4000], "status": None, "fault": False})

    def api_patch(self, req: Request, tid: str) -> Reply:
        entry = self._received(req, tid)
        fault = self.take_fault("patch")
        if fault is not None:
            entry["fault"] = True
            reply = self.fault_reply(fault)
            if reply is not None:
                entry["status"] = reply.status
                return reply
        try:
            reply = self._patch(req, tid)
        except ApiError as exc:
            entry["status"] = exc.status
            raise
        entry["status"] = reply.status
        return reply

    def _patch(self, req: Request, tid: str) -> Reply:
        with self.lock:
            key, status = self.config["key"], self.config["patch_status"]
            credentials = basic_credentials(req.headers.get("authorization"))
            if credentials is None or credentials[0] != key:
                raise ApiError(401, "Invalid Basic Auth credentials: send the partner key as the "
                                    "username and an empty password",
                               {"WWW-Authenticate": 'Basic realm="Greenhouse"'})
            record = self.take_home(tid)
            problems = []
            if credentials[1]:
                problems.append("the Basic password must be empty (the key is the username)")
            if req.body.strip():
                problems.append("the completion PATCH has no body (brief §3.3); got "
                                f"{len(req.body)} bytes")
            self.violation("patch", problems, take_home_test_id=record["id"])
            record["patches"].append({"at_ms": now_ms(), "status": status,
                                      "body": req.body.decode(errors="replace")[:4000]})
        self.start_thread(self.read_status_after_patch, record["id"],
                          name=f"fake-greenhouse-status-{record['id']}")
        return Reply(status)

    def api_not_patch(self, req: Request, tid: str) -> Reply:
        self._received(req, tid)["status"] = 405
        if req.method not in ("GET", "HEAD"):  # a person may open the URL; the partner may not
            self.violation("patch", [f"the completion callback is a PATCH, not {req.method}"],
                           take_home_test_id=tid)
        raise ApiError(405, f"Method {req.method} not allowed; use PATCH", {"Allow": "PATCH"})
