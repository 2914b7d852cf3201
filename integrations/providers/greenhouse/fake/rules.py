"""What Greenhouse accepts from the partner (brief §3.2, pitfalls 14-17), as pure functions.

Each ``check_*`` takes the partner's answer (a ``CallResult``) and returns the list of rules it
broke (empty means Greenhouse would take it), plus what the fake keeps from it. Keeping the rules
apart from the HTTP plumbing lets a test read them as a list of the brief's sentences.
"""

from __future__ import annotations

import json
import math
from typing import Any
from urllib.parse import urlsplit

from integrations.fakekit import CallResult

MAX_KEY_LENGTH = 170  # "under 171 characters" (changelog Oct 4 2024)
DONE = "complete"  # exactly this, lowercase; "COMPLETE" and "completed" are not done


def key_problem(key: Any) -> str | None:
    """Why Greenhouse would refuse this partner key, or None."""
    if not isinstance(key, str) or not key:
        return "key must be a non-empty string"
    if len(key) > MAX_KEY_LENGTH:
        return f"key must be under 171 characters (got {len(key)})"
    if ":" in key:
        return "key must not contain ':' (it is the Basic username)"
    return None


def is_http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def expect_status(result: CallResult, expect: int = 200) -> list[str]:
    """The status check every call shares (a test may expect a refusal, e.g. 401 or 404)."""
    if result.status is None:
        return [f"no HTTP answer from {result.url}: {result.error}"]
    if result.status != expect:
        return [f"expected HTTP {expect}, got {result.status}"]
    return []


def status_and_json(result: CallResult) -> tuple[list[str], Any]:
    """HTTP 200, then the parsed body (None when it is not JSON)."""
    errors = expect_status(result)
    if errors:
        return errors, None
    try:
        return [], result.json()
    except ValueError as exc:
        return [f"the body is not JSON: {exc}"], None


def _non_empty_string(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def check_list_tests(result: CallResult) -> tuple[list[str], list[dict]]:
    """A bare JSON array of {partner_test_id, partner_test_name}, both non-empty strings."""
    errors, body = status_and_json(result)
    if errors:
        return errors, []
    if isinstance(body, dict):
        return [f"list_tests must answer a bare JSON array, not an object "
                f"(keys {sorted(body)})"], []
    if not isinstance(body, list):
        return [f"list_tests must answer a JSON array, got {type(body).__name__}"], []
    tests: list[dict] = []
    seen: set[str] = set()
    for index, item in enumerate(body):
        if not isinstance(item, dict):
            errors.append(f"item {index} is not an object")
            continue
        bad = [name for name in ("partner_test_id", "partner_test_name")
               if not _non_empty_string(item.get(name))]
        for name in bad:
            errors.append(f"item {index}: {name} must be a non-empty string "
                          f"(got {json.dumps(item.get(name))})")
        if bad:
            continue
        if item["partner_test_id"] in seen:
            errors.append(f"item {index}: partner_test_id {item['partner_test_id']!r} is listed "
                          "twice")
            continue
        seen.add(item["partner_test_id"])
        tests.append({"partner_test_id": item["partner_test_id"],
                      "partner_test_name": item["partner_test_name"]})
    return errors, tests


def check_send_test(result: CallResult) -> tuple[list[str], str | None]:
    """{"partner_interview_id": <non-empty string>}."""
    errors, body = status_and_json(result)
    if errors:
        return errors, None
    if not isinstance(body, dict):
        return [f"send_test must answer a JSON object, got {type(body).__name__}"], None
    interview_id = body.get("partner_interview_id")
    if not _non_empty_string(interview_id):
        return [f"partner_interview_id must be a non-empty string "
                f"(got {json.dumps(interview_id)})"], None
    return [], interview_id


def check_test_status(result: CallResult) -> tuple[list[str], dict | None]:
    """The test_status table of brief §3.2 and pitfall 14.

    Returns the errors and, when the answer is valid, what Greenhouse keeps:
    ``{partner_status, done, partner_profile_url, partner_score, metadata}``.
    """
    errors, body = status_and_json(result)
    if errors:
        return errors, None
    if not isinstance(body, dict):
        return [f"test_status must answer a JSON object, got {type(body).__name__}"], None
    status = body.get("partner_status")
    if not isinstance(status, str):
        return [f"partner_status must be a string (got {json.dumps(status)})"], None
    done = status == DONE
    if not done and status.strip().lower() in ("complete", "completed"):
        errors.append(f"partner_status {status!r} is not 'complete' (Greenhouse keeps the test "
                      "pending)")
    profile_url = body.get("partner_profile_url")
    if done and profile_url is None:
        errors.append("partner_status is 'complete' but partner_profile_url is missing")
    elif done and not is_http_url(profile_url):
        errors.append(f"partner_profile_url must be an absolute http(s) URL "
                      f"(got {json.dumps(profile_url)})")
    score = body.get("partner_score")
    if score is not None and (isinstance(score, bool) or not isinstance(score, int | float)
                              or not math.isfinite(score)):
        errors.append(f"partner_score must be a number (got {json.dumps(score)})")
    metadata = body.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            errors.append(f"metadata must be a flat object (got {type(metadata).__name__})")
        else:
            for key, value in metadata.items():
                if isinstance(value, dict | list):
                    errors.append(f"metadata must be flat: {key!r} holds a "
                                  f"{'object' if isinstance(value, dict) else 'array'}, not a "
                                  "string, number, boolean or null")
    if errors:
        return errors, None
    return [], {"partner_status": status, "done": done, "partner_profile_url": profile_url,
                "partner_score": score, "metadata": metadata}


def check_response_error(result: CallResult) -> list[str]:
    """The partner just has to answer 200 (the docs show ``{"status": 200}``; any body will do)."""
    return expect_status(result)
