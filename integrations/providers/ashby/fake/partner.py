"""Ashby calling the partner: ``assessment.list``, ``.start`` and ``.cancel`` (brief §4.2).

Each call is RPC-style ``POST <partner_url>/assessment.<method>`` with HTTP Basic carrying the
partner-issued key. Which Basic field Ashby fills is UNCONFIRMED (§4.1), so ``key_field`` picks
the username (default) or the password, and tests prove the partner accepts both. The lock is not
held while a call is in flight: the partner may call ``assessment.update`` before answering.
"""

from __future__ import annotations

import copy
from typing import Any

from integrations.fakekit import ApiError, basic_auth, call, now_ms

from . import rules
from .state import Store, new_id

STATUSES = ("Active", "Lead", "Hired", "Archived")  # the page offers these; any string is sent


class Partner(Store):
    def call_partner(self, method: str, body: dict) -> tuple[dict, Any, list[str]]:
        """POST the call; (the record for ``calls``, the parsed body or None, parse errors)."""
        with self.lock:
            config = dict(self.config)
        if not config["partner_url"]:
            raise ApiError(400, "partner_url is not configured: POST /_control/configure "
                                '{"partner_url": "<site>/integrations/ashby"}')
        key = config["partner_key"]
        auth = basic_auth(key, "") if config["key_field"] == "username" else basic_auth("", key)
        url = f"{config['partner_url']}/{method}"
        headers = {"Authorization": auth, "Accept": "application/json"}
        result = call("POST", url, body=body, headers=headers, timeout=config["partner_timeout"])
        parsed: Any = None
        problems: list[str] = []
        if result.status is None:
            problems.append(f"no HTTP answer from {url}: {result.error}")
        elif result.text.strip():
            try:
                parsed = result.json()
            except ValueError as exc:
                if result.status == 200:
                    problems.append(f"the answer is not JSON: {exc}")
        record = {
            "at_ms": now_ms(),
            "call": method,
            "request": {"method": "POST", "url": url, "headers": headers,
                        "key_field": config["key_field"], "body": body},
            "response": {"status": result.status, "headers": result.headers,
                         "body": parsed if parsed is not None else result.text[:4000],
                         "error": result.error, "duration_ms": result.duration_ms},
            "errors": [],
        }
        return record, parsed, problems

    def _finish(self, record: dict, errors: list[str]) -> dict:
        record["errors"] = errors
        self.log(self.calls, record)
        self.violate(record["call"], errors)
        response = record["response"]
        return {"status": response["status"], "body": response["body"],
                "error": response["error"], "errors": errors, "request": record["request"]}

    # --- assessment.list -------------------------------------------------------------------

    def list_assessment_types(self) -> dict:
        record, parsed, problems = self.call_partner("assessment.list", {})
        errors = problems or rules.check_list_answer(record["response"]["status"], parsed)
        with self.lock:
            if not errors:
                self.assessment_types = parsed["results"]
            outcome = self._finish(record, errors)
            outcome["assessment_types"] = copy.deepcopy(self.assessment_types)
        return outcome

    # --- assessment.start ------------------------------------------------------------------

    def build_start(self, spec: dict) -> dict:
        """The full start body of brief §4.2, with generated ids and the caller's overrides."""
        candidate_over = spec.get("candidate") or {}
        job_over = spec.get("job") or {}
        if not isinstance(candidate_over, dict) or not isinstance(job_over, dict):
            raise ApiError(400, "candidate and job must be objects of overrides")
        with self.lock:
            type_id = spec.get("assessment_type_id") or (
                self.assessment_types[0]["assessment_type_id"] if self.assessment_types else None)
            if not type_id:
                raise ApiError(400, "assessment_type_id is required (or run list first)")
            app_id = spec.get("application_id") or None
            known = self.applications.get(app_id) if app_id else None
            if known is not None:
                candidate = {**known["candidate"], **candidate_over}
                job = {**known["job"], **job_over}
            else:
                cid, short = new_id(), new_id()[:8]
                candidate = {"ashby_id": cid, "first_name": "Ada", "last_name": "Lovelace",
                             "email": f"ada.{short}@example.com",
                             "ashby_profile_url": f"https://app.ashbyhq.com/candidates/{cid}",
                             **candidate_over}
                job = {**self.default_job, **job_over}
                job.setdefault("ashby_job_url", f"https://app.ashbyhq.com/jobs/{job['ashby_id']}")
                job.setdefault("hiringTeam", [])
            status = spec.get("application_status") or (known["status"] if known else "Active")
            app_id = app_id or new_id()
            self.applications[app_id] = {"ashby_id": app_id, "status": status,
                                         "candidate": candidate, "job": job}
            self.candidates[candidate.get("ashby_id", "")] = candidate
            return {"assessment_type_id": type_id, "candidate": candidate,
                    "application": {"ashby_id": app_id, "status": status}, "job": job}

    def start_assessment(self, spec: dict) -> dict:
        body = self.build_start(spec)
        record, parsed, problems = self.call_partner("assessment.start", body)
        status = record["response"]["status"]
        errors = problems or rules.check_start_answer(status, parsed)
        assessment = None
        with self.lock:
            if not errors and status == 200:
                assessment, more = self._record_start(body, parsed["results"])
                errors += more
            elif not errors:  # a 409 or 422: a refusal Ashby shows the user
                self.refusals.append({"at_ms": now_ms(), "status": status, "body": parsed,
                                      "request": body})
            outcome = self._finish(record, errors)
            outcome["assessment"] = copy.deepcopy(assessment)
            outcome["refused"] = status in (409, 422) and not errors
            outcome["message"] = parsed.get("message") if isinstance(parsed, dict) else None
        return outcome

    def _record_start(self, body: dict, results: dict) -> tuple[dict, list[str]]:
        errors: list[str] = []
        aid = results["assessment_id"]
        app_id, type_id = body["application"]["ashby_id"], body["assessment_type_id"]
        record = self.assessments.get(aid)
        if record is not None:
            record["starts"] += 1
            if (record["application_id"], record["assessment_type_id"]) != (app_id, type_id):
                errors.append(f"assessment_id {aid!r} was already returned for application "
                              f"{record['application_id']} and type "
                              f"{record['assessment_type_id']}")
        else:
            open_ones = [a["assessment_id"] for a in self.assessments.values()
                         if a["application_id"] == app_id and a["assessment_type_id"] == type_id
                         and not a["cancelled"] and not a["completed"]]
            if open_ones:
                errors.append(f"start is not idempotent: application {app_id} already has "
                              f"assessment {open_ones[0]!r} of type {type_id!r}, and this answer "
                              f"made a new one, {aid!r} (brief §7.29)")
            record = self.new_assessment(aid, body)
        update = results.get("update_request")
        if isinstance(update, dict):
            if update.get("assessment_id", aid) != aid:
                errors.append(f"update_request: assessment_id {update.get('assessment_id')!r} "
                              f"is not the results.assessment_id {aid!r}")
            else:
                errors += [f"update_request: {e}"
                           for e in self.accept_update(update, source="assessment.start")]
        return record, errors

    # --- assessment.cancel -----------------------------------------------------------------

    def cancel_assessment(self, assessment_id: Any) -> dict:
        if not rules.is_text(assessment_id):
            raise ApiError(400, "assessment_id is required")
        record, parsed, problems = self.call_partner("assessment.cancel",
                                                     {"assessment_id": assessment_id})
        errors = problems or rules.check_cancel_answer(record["response"]["status"], parsed)
        with self.lock:
            assessment = self.assessments.get(assessment_id)
            if not errors and assessment is not None and parsed.get("success") is True:
                assessment["cancelled"] = True
                assessment["cancelled_by"] = assessment["cancelled_by"] or "ashby"
            outcome = self._finish(record, errors)
            outcome["assessment"] = copy.deepcopy(assessment)
        return outcome
