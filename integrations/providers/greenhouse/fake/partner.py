"""Greenhouse calling the partner: list_tests, send_test, test_status and response_error.

Every call uses Basic ``<key>:``, is recorded in ``exchanges`` with the rules it broke, and a
broken rule becomes a violation and (like Greenhouse) a POST to the partner's ``response_error``.
Callers may ``expect`` a refusal (401, 404...) to check that the partner refuses; a matching status
is then not a violation. No lock is held while the partner is on the line.
"""

from __future__ import annotations

import copy
import logging
from typing import Any
from urllib.parse import urlencode

from integrations.fakekit import ApiError, CallResult, basic_auth, call, now_ms

from . import rules
from .state import Store

logger = logging.getLogger("integrations.greenhouse.fake")

FIRST_NAMES = ("Harry", "Hermione", "Ron", "Luna", "Neville", "Ginny", "Cho", "Cedric")
LAST_NAMES = ("Potter", "Granger", "Weasley", "Lovegood", "Longbottom", "Chang", "Diggory")
RESUME_DAYS = 7  # the resume_url expires 7 days after the request


def _parsed(result: CallResult) -> Any:
    try:
        return result.json()
    except ValueError:
        return result.text[:4000] or None


class Partner(Store):
    # -- plumbing -------------------------------------------------------------------------------
    def _call(self, name: str, method: str, *, body: Any = None,
              query: dict[str, str] | None = None) -> tuple[CallResult, str]:
        with self.lock:
            url, key = self.partner_urls()[name], self.config["key"]
            timeout = self.config["timeout"]
        if url is None:
            raise ApiError(409, "The partner URL is not set: POST /_control/configure "
                                '{"partner_url": "https://partner.example/integrations/greenhouse"}')
        if query:
            url += ("&" if "?" in url else "?") + urlencode(query)
        authorization = basic_auth(key)
        return call(method, url, body=body, headers={"Authorization": authorization},
                    timeout=timeout), authorization

    def _record(self, name: str, result: CallResult, authorization: str, request_body: Any,
                errors: list[str], context: dict[str, Any]) -> dict:
        """Keep the exchange and its violations; report them to the partner like Greenhouse."""
        exchange = self.keep(self.exchanges, {
            "at_ms": now_ms(), "call": name, "method": result.method, "url": result.url,
            "authorization": authorization, "request_body": request_body,
            "status": result.status, "body": _parsed(result), "error": result.error,
            "duration_ms": result.duration_ms, "errors": list(errors)})
        self.violation(name, errors, **{k: v for k, v in context.items() if v is not None})
        if errors and name != "response_error" and self.config["report_errors"]:
            self.report_errors(name, errors, context)
        return exchange

    def report_errors(self, api_call: str, errors: list[str], context: dict[str, Any]) -> dict:
        """POST response_error as Greenhouse does after a malformed answer (brief §3.4)."""
        body = {"api_call": api_call, "errors": list(errors),
                "partner_test_id": context.get("partner_test_id"),
                "partner_test_name": context.get("partner_test_name"),
                "partner_interview_id": context.get("partner_interview_id"),
                "candidate_email": context.get("candidate_email")}
        return self.post_response_error(body)

    def post_response_error(self, body: dict[str, Any]) -> dict:
        try:
            result, authorization = self._call("response_error", "POST", body=body)
        except ApiError as exc:  # no partner URL: nothing to report to
            return {"status": None, "body": None, "errors": [exc.message], "request": body}
        errors = rules.check_response_error(result)
        self._record("response_error", result, authorization, body, errors,
                     {"api_call": body.get("api_call")})
        return {"status": result.status, "body": _parsed(result), "errors": errors,
                "request": body}

    # -- the calls ------------------------------------------------------------------------------
    def list_tests(self, expect: int = 200) -> dict:
        result, authorization = self._call("list_tests", "GET")
        if expect == 200:
            errors, tests = rules.check_list_tests(result)
        else:
            errors, tests = rules.expect_status(result, expect), []
        if expect == 200 and not errors:
            with self.lock:
                self.tests = tests
        self._record("list_tests", result, authorization, None, errors, {})
        return {"status": result.status, "body": _parsed(result), "errors": errors,
                "tests": tests}

    def send_test(self, partner_test_id: Any, *, candidate: dict | None = None,
                  sent_by: Any = "recruiter@greenhouse.fake", application_id: Any = None,
                  extra: dict | None = None, expect: int = 200) -> dict:
        if not isinstance(partner_test_id, str) or not partner_test_id:
            raise ApiError(400, "partner_test_id is required (a string from list_tests)")
        with self.lock:
            record, resent = self._take_home_for(partner_test_id, candidate or {}, application_id)
            body = {"partner_test_id": partner_test_id, "candidate": dict(record["candidate"]),
                    "sent_by": sent_by, "url": record["url"], **(extra or {})}
            before = record["partner_interview_id"]
        result, authorization = self._call("send_test", "POST", body=body)
        if expect == 200:
            errors, interview_id = rules.check_send_test(result)
        else:
            errors, interview_id = rules.expect_status(result, expect), None
        with self.lock:
            if interview_id:
                record["partner_interview_id"] = interview_id
            record["sends"].append({"at_ms": now_ms(), "status": result.status,
                                    "partner_interview_id": interview_id, "errors": errors})
            view = copy.deepcopy(record)
        self._record("send_test", result, authorization, body, errors, {
            "partner_test_id": partner_test_id,
            "partner_test_name": self.test_name(partner_test_id),
            "candidate_email": body["candidate"].get("email"),
            "take_home_test_id": record["id"]})
        return {"status": result.status, "body": _parsed(result), "errors": errors,
                "request": body, "take_home_test": view, "resent": resent,
                "same_partner_interview_id": (interview_id == before) if resent else None}

    def test_status(self, interview_id: Any, *, expect: int | None = None,
                    trigger: str = "control") -> dict:
        """GET test_status; for a take-home test the fake knows, store what Greenhouse keeps.

        An id the fake never got from send_test should be answered 404 (brief §3.4): that is
        recorded but not flagged; any other answer is checked like a real one.
        """
        if not isinstance(interview_id, str) or not interview_id:
            raise ApiError(400, "partner_interview_id is required")
        with self.lock:
            record = self.by_interview_id(interview_id)
        result, authorization = self._call("test_status", "GET",
                                           query={"partner_interview_id": interview_id})
        if expect is not None and expect != 200:
            errors, data = rules.expect_status(result, expect), None
        elif record is None and result.status == 404:
            errors, data = [], None
        else:
            errors, data = rules.check_test_status(result)
        read = {"at_ms": now_ms(), "trigger": trigger, "status": result.status,
                "body": _parsed(result), "errors": errors, "done": bool(data and data["done"])}
        view = None
        if record is not None:
            with self.lock:
                if data is not None:
                    record["status"] = data["partner_status"]
                    if data["done"]:
                        record["result"] = {k: data[k] for k in (
                            "partner_profile_url", "partner_score", "metadata")}
                record["status_reads"].append(read)
                view = copy.deepcopy(record)
        self._record("test_status", result, authorization, None, errors, {
            "partner_interview_id": interview_id,
            "partner_test_id": record and record["partner_test_id"],
            "partner_test_name": record and self.test_name(record["partner_test_id"]),
            "candidate_email": record and record["candidate"].get("email"),
            "take_home_test_id": record and record["id"]})
        return {"status": result.status, "body": read["body"], "errors": errors,
                "known": record is not None, "done": read["done"], "result": data,
                "take_home_test": view}

    def read_status_after_patch(self, tid: int) -> None:
        """The background half of the PATCH: wait a moment, then read test_status."""
        try:
            if self.stopping.wait(self.config["status_read_delay"]):
                return
            with self.lock:
                record = self.take_home_tests.get(tid)
                interview_id = record and record["partner_interview_id"]
            if record is None:
                return  # reset meanwhile
            if not interview_id:
                self.violation("patch", ["PATCH for a take-home test whose send_test got no "
                                         "partner_interview_id"], take_home_test_id=tid)
                return
            self.test_status(interview_id, trigger="patch")
        except ApiError as exc:  # e.g. the partner URL was unset meanwhile
            self.violation("test_status", [exc.message], take_home_test_id=tid)
        except Exception:  # a bug here must not go unnoticed, nor kill the server
            logger.exception("fake-greenhouse: reading test_status after a PATCH failed")
            self.violation("test_status", ["the fake failed to read test_status (see its log)"],
                           take_home_test_id=tid)

    # -- the records ----------------------------------------------------------------------------
    def _take_home_for(self, partner_test_id: str, overrides: dict,
                       application_id: Any) -> tuple[dict, bool]:
        """The take-home test to send: a new candidate, or the given application again."""
        if not isinstance(overrides, dict):
            raise ApiError(400, "candidate must be an object of fields to override")
        if application_id not in (None, ""):
            try:
                application = self.applications[int(application_id)]
            except (KeyError, TypeError, ValueError):
                raise ApiError(404, f"Application {application_id} not found") from None
            candidate = self.candidates[application["candidate_id"]]
            candidate.update(overrides)
            for record in self.take_home_tests.values():
                if (record["application_id"] == application["id"]
                        and record["partner_test_id"] == partner_test_id):
                    record["candidate"] = dict(candidate)
                    return record, True
        else:
            cid, aid = self.new_id(), self.new_id()
            candidate = self._new_candidate(cid, aid, overrides)
            application = {"id": aid, "candidate_id": cid, "created_at_ms": now_ms()}
            self.applications[aid] = application
        tid = self.new_id()
        record = {"id": tid, "partner_test_id": partner_test_id,
                  "application_id": application["id"], "candidate": dict(candidate),
                  "url": f"{self.base_url}/integrations/testing_partners/take_home_tests/{tid}",
                  "partner_interview_id": None, "status": None, "result": None,
                  "patches": [], "status_reads": [], "sends": [], "created_at_ms": now_ms()}
        self.take_home_tests[tid] = record
        return record, False

    def _new_candidate(self, cid: int, aid: int, overrides: dict) -> dict:
        first = self.random.choice(FIRST_NAMES)
        last = self.random.choice(LAST_NAMES)
        expires = now_ms() // 1000 + RESUME_DAYS * 86400
        self.candidates[cid] = {
            "first_name": first,
            "last_name": last,
            "preferred_name": None,
            "email": f"{first}.{last}.{cid}@example.edu".lower(),
            "phone_number": "123-456-7890",
            "resume_url": f"{self.base_url}/resumes/{cid}?expires={expires}",
            "greenhouse_profile_url": f"{self.base_url}/people/{cid}?application_id={aid}",
            **overrides,
        }
        return self.candidates[cid]
