"""What Workable sends the provider (us): ``GET /tests`` and ``POST /assessments``, Bearer-signed
with the *provider-issued* token, each answer judged by ``rules`` and recorded.

The lock is never held across a call: the partner may PUT a callback to the fake before it
answers, and that callback must not wait for this thread.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from integrations.fakekit import ApiError, CallResult, call, now_ms

from .rules import check_created, check_error, check_shared_link, check_tests
from .state import Store

AUTH_MODES = ("token", "none", "wrong")  # what to present: the token, nothing, a wrong one


def _parse(result: CallResult) -> tuple[Any, list[str]]:
    if result.status is None:
        return None, [f"no HTTP answer from the partner: {result.error}"]
    try:
        return result.json(), []
    except ValueError as exc:
        return result.text[:2000], [f"HTTP {result.status}: the body is not JSON ({exc})"]


def _judge(result: CallResult, check_ok, *, optional: bool = False) -> tuple[Any, list[str]]:
    """The parsed body and the rules it breaks; an absent optional endpoint (404) is fine."""
    body, errors = _parse(result)
    if result.status is None:
        return body, errors
    if optional and result.status == 404:
        return body, []
    if errors:
        return body, errors
    if 200 <= result.status < 300:
        return body, check_ok(result.status, body)
    return body, check_error(result.status, body)


class Partner(Store):
    def _authorization(self, opts: dict) -> str | None:
        mode = opts.get("auth") or "token"
        if mode not in AUTH_MODES:
            raise ApiError(400, f"auth must be one of {', '.join(AUTH_MODES)}")
        if mode == "none":
            return None
        if mode == "wrong":
            return "Bearer wrong-" + self.config["provider_token"][::-1]
        token = opts.get("token") or self.config["provider_token"]
        if not isinstance(token, str):
            raise ApiError(400, "token must be a string")
        return f"Bearer {token}"

    def _ready(self, opts: dict) -> tuple[str, str | None]:
        """The partner's base URL and the Authorization to present, or a 4xx saying why not."""
        with self.lock:
            base = self.config["partner_url"]
            authorization = self._authorization(opts)
        if not base:
            raise ApiError(409, "partner_url is not configured: POST /_control/configure "
                                '{"partner_url": "<site>/integrations/workable"}')
        return base, authorization

    def _partner(self, method: str, path: str, opts: dict, body: Any = None
                 ) -> tuple[dict, CallResult]:
        """One call to the partner (without the lock); the request as it will be recorded."""
        base, authorization = self._ready(opts)
        headers = {"Accept": "application/json"}
        if authorization:
            headers["Authorization"] = authorization
        url = base + path
        request = {"method": method, "url": url, "authorization": authorization, "body": body}
        return request, call(method, url, body=body, headers=headers, timeout=self.timeout)

    def _refused(self, opts: dict, result: CallResult) -> list[str]:
        mode = opts.get("auth") or "token"
        if mode != "token" and result.status is not None and result.status < 300:
            what = "no Authorization header" if mode == "none" else "a wrong Bearer token"
            return [f"answered {result.status} to a request with {what}; expected 401"]
        return []

    def _record(self, action: str, request: dict, result: CallResult, body: Any,
                errors: list[str], **extra: Any) -> dict:
        response = {"status": result.status, "body": body, "error": result.error,
                    "duration_ms": result.duration_ms}
        entry = {"at_ms": now_ms(), "action": action, "request": request, "response": response,
                 "errors": errors}
        self.remember(self.calls, entry)
        self.violation(f"{request['method']} {request['url']}", errors)
        outcome = {"status": result.status, "body": body, "errors": errors, **extra}
        with self.lock:
            self.last_action = {"action": action, **outcome}
        return outcome

    def list_tests(self, opts: dict) -> dict:
        request, result = self._partner("GET", "/tests", opts)
        body, errors = _judge(result, check_tests)
        errors += self._refused(opts, result)
        if not errors and result.status == 200:
            with self.lock:
                self.tests = body["tests"]
        return self._record("tests", request, result, body, errors,
                            tests=body.get("tests") if isinstance(body, dict) else None)

    def _candidate(self, n: int, overrides: Any) -> dict:
        if overrides is not None and not isinstance(overrides, dict):
            raise ApiError(400, "candidate must be an object")
        candidate = {"first_name": "Lakita", "last_name": "Marrero",
                     "email": f"lakita.marrero+{n}@example.com", "phone": "+30 210 000 0000"}
        candidate.update(overrides or {})
        return {k: v for k, v in candidate.items() if v is not None}  # null drops a field

    def _default_test_id(self) -> str:
        if not self.tests:
            raise ApiError(400, "test_id is required (or list the partner's tests first)")
        return str(self.tests[0]["id"])  # the brief's example sends ids as strings

    def _new_request(self, spec: dict) -> dict:
        """A new assessment record and the POST body for it (under the lock)."""
        aid = self.new_assessment_id()
        callback_url = spec.get("callback_url") or f"{self.site_url}/assessments/{aid}"
        test_id = spec["test_id"] if spec.get("test_id") not in (None, "") \
            else self._default_test_id()
        body = {"test_id": test_id, "job_shortcode": spec.get("job_shortcode", "GROOV005"),
                "job_title": spec.get("job_title", "AI Engineer"), "callback_url": callback_url,
                "candidate": self._candidate(self.counter, spec.get("candidate"))}
        body = {k: v for k, v in body.items() if v is not None}
        token = spec.get("workable_token")
        if token is not None and (not isinstance(token, str) or not token.strip()):
            raise ApiError(400, "workable_token must be a non-empty string")
        self.assessments[aid] = {
            "id": aid, "callback_url": callback_url, "test_id": test_id,
            "candidate": body["candidate"], "assessment_id": None, "callbacks": [],
            "status": None, "results_url": None, "assessment": None, "attachments": [],
            "workable_token": token or None, "request": body, "answers": [],
            "created_at_ms": now_ms(),
        }
        return self.assessments[aid]

    def create_assessment(self, spec: dict) -> dict:
        """POST /assessments; an existing ``callback_url`` re-sends that assessment's request."""
        self._ready(spec)  # refuse before a record exists
        with self.lock:
            existing = self.by_callback_url(spec["callback_url"]) \
                if spec.get("callback_url") else None
            record = existing or self._new_request(spec)
            known = {str(t["id"]) for t in self.tests} if self.tests is not None else None
        request, result = self._partner("POST", "/assessments", spec, record["request"])
        body, errors = _judge(result, check_created)
        errors += self._refused(opts=spec, result=result)
        ok = result.status is not None and 200 <= result.status < 300
        test_id = str(record["test_id"])
        if ok and known is not None and test_id not in known:
            errors.append(f"accepted test_id {record['test_id']!r}, which GET /tests did not "
                          "list (expected 422)")
        new_id = body.get("assessment_id") if ok and isinstance(body, dict) else None
        with self.lock:
            if new_id is not None and record["assessment_id"] is not None \
                    and str(new_id) != str(record["assessment_id"]):
                errors.append(f"not idempotent on callback_url: the same request got "
                              f"assessment_id {new_id!r} after {record['assessment_id']!r}")
            elif new_id is not None:
                record["assessment_id"] = new_id
            record["answers"].append({"at_ms": now_ms(), "status": result.status, "body": body,
                                      "errors": errors})
        return self._record("assessments", request, result, body, errors, id=record["id"],
                            callback_url=record["callback_url"], assessment=record)

    def shared_link(self, aid: str, opts: dict) -> dict:
        with self.lock:
            record = self.assessment(aid)
            provider_id = record["assessment_id"]
        if provider_id in (None, ""):
            raise ApiError(409, f"Assessment {aid} has no assessment_id from the partner yet")
        path = f"/assessments/{quote(str(provider_id), safe='')}/shared-link"
        request, result = self._partner("GET", path, opts)
        body, errors = _judge(result, check_shared_link, optional=True)
        errors += self._refused(opts, result)
        return self._record("shared-link", request, result, body, errors, id=aid)
