"""Workable's rules (brief §5), as pure functions that return what the partner got wrong.

Strict where the brief is sure (two tokens, status and grade enums, ``results_url`` when
completed, the ``{"status", "message"}`` error shape); lenient where it says [UNCONFIRMED]: test
ids may be strings or integers, ``score`` a number or a numeric string, ``duration`` ``"HH:MM:SS"``
or a number.
Callback checks come back as (hard, soft): a hard error is answered 422, a soft one only recorded.
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import urlsplit

STATUSES = ("pending", "completed", "rejected", "expired")
TERMINAL = ("completed", "rejected", "expired")
GRADES = ("failed", "passed", "excelled")  # shown as "no", "yes", "definitely yes"
ERROR_CODES = (400, 401, 409, 422)  # what the provider may answer (brief §5.2 error format)
DURATION = re.compile(r"\A\d+:[0-5]\d:[0-5]\d\Z")


def is_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _number(value: Any) -> float | None:
    """A finite number, from a number or a numeric string; None otherwise (bools are not)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _is_id(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and bool(value.strip()))


def check_error(status: int, body: Any, allowed: tuple[int, ...] = ERROR_CODES) -> list[str]:
    """A 4xx/5xx from the partner: a documented code and the ``{"status", "message"}`` body."""
    errors = []
    if status not in allowed:
        errors.append(f"HTTP {status} is not one of the documented error codes "
                      f"{', '.join(map(str, allowed))}")
    if not isinstance(body, dict):
        errors.append('an error body must be {"status": <int>, "message": <str>}')
        return errors
    code, message = body.get("status"), body.get("message")
    if isinstance(code, bool) or not isinstance(code, int):
        errors.append(f'the error body needs "status" as an integer (got {code!r})')
    elif code != status:
        errors.append(f'the error body says "status": {code} but the HTTP status is {status}')
    if not isinstance(message, str) or not message.strip():
        errors.append(f'the error body needs "message" as a non-empty string (got {message!r})')
    return errors


def check_tests(status: int, body: Any) -> list[str]:
    """``GET /tests``: 200 ``{"tests": [{"id": <str or int>, "name": <str>}]}``."""
    errors = [] if status == 200 else [f"GET /tests must answer 200 (got {status})"]
    tests = body.get("tests") if isinstance(body, dict) else None
    if not isinstance(tests, list):
        return [*errors, 'the body must be {"tests": [{"id": ..., "name": ...}, ...]}']
    seen: set[str] = set()
    for i, test in enumerate(tests):
        if not isinstance(test, dict):
            errors.append(f"tests[{i}] must be an object")
            continue
        tid, name = test.get("id"), test.get("name")
        if not _is_id(tid):
            errors.append(f"tests[{i}].id must be a non-empty string or an integer (got {tid!r})")
        elif str(tid) in seen:
            errors.append(f"tests[{i}].id {tid!r} appears twice")
        else:
            seen.add(str(tid))
        if not isinstance(name, str) or not name.strip():
            errors.append(f"tests[{i}].name must be a non-empty string (got {name!r})")
    return errors


def check_created(status: int, body: Any) -> list[str]:
    """``POST /assessments``: 200 or 201 ``{"assessment_id": "<provider id>"}``."""
    errors = [] if status in (200, 201) else [f"POST /assessments must answer 200 or 201 "
                                              f"(got {status})"]
    if not isinstance(body, dict):
        return [*errors, 'the body must be {"assessment_id": "<your id>"}']
    aid = body.get("assessment_id")
    if aid is None:
        errors.append('"assessment_id" is missing')
    elif isinstance(aid, int | float) and not isinstance(aid, bool):
        errors.append(f'"assessment_id" should be a string (the brief shows one); got the '
                      f"number {aid!r}")
    elif not isinstance(aid, str) or not aid.strip():
        errors.append(f'"assessment_id" must be a non-empty string (got {aid!r})')
    return errors


def check_shared_link(status: int, body: Any) -> list[str]:
    """Optional ``GET /assessments/:id/shared-link``: ``{"url", "ttl", "ttl_units"}``."""
    errors = [] if status == 200 else [f"the shared link must answer 200 (got {status})"]
    if not isinstance(body, dict):
        return [*errors, 'the body must be {"url": ..., "ttl": ..., "ttl_units": ...}']
    if not is_url(body.get("url")):
        errors.append(f'"url" must be an absolute http(s) URL (got {body.get("url")!r})')
    ttl = _number(body.get("ttl"))
    if ttl is None or ttl <= 0:
        errors.append(f'"ttl" must be a positive number or numeric string '
                      f'(got {body.get("ttl")!r})')
    units = body.get("ttl_units")
    if not isinstance(units, str) or not units.strip():
        errors.append(f'"ttl_units" must be a non-empty string such as "minutes" (got {units!r})')
    return errors


def _check_assessment(assessment: Any) -> list[str]:
    if not isinstance(assessment, dict):
        return [f'"assessment" must be an object (got {type(assessment).__name__})']
    errors = []
    score = assessment.get("score")
    if score is not None and _number(score) is None:
        errors.append(f'assessment.score must be a number or a numeric string (got {score!r})')
    grade = assessment.get("grade")
    if grade is not None and grade not in GRADES:
        errors.append(f"assessment.grade must be one of {', '.join(GRADES)} (got {grade!r})")
    summary = assessment.get("summary")
    if summary is not None and not isinstance(summary, str):
        errors.append(f"assessment.summary must be a string (got {type(summary).__name__})")
    details = assessment.get("details")
    if details is not None and not isinstance(details, dict):
        errors.append(f"assessment.details must be an object (got {type(details).__name__})")
    duration = assessment.get("duration")
    if duration is not None:
        seconds = _number(duration)
        clock = isinstance(duration, str) and DURATION.match(duration.strip())
        if not clock and (seconds is None or seconds < 0):
            errors.append('assessment.duration must be "HH:MM:SS" or a non-negative number '
                          f"(got {duration!r})")
    return errors


def _check_attachments(attachments: Any) -> list[str]:
    if not isinstance(attachments, list):
        return ['"attachments" must be a list of {"description", "url"}']
    errors = []
    for i, item in enumerate(attachments):
        if not isinstance(item, dict):
            errors.append(f"attachments[{i}] must be an object")
            continue
        description = item.get("description")
        if not isinstance(description, str) or not description.strip():
            errors.append(f"attachments[{i}].description must be a non-empty string")
        if not is_url(item.get("url")):
            errors.append(f"attachments[{i}].url must be an absolute http(s) URL "
                          f"(got {item.get('url')!r})")
    return errors


def check_callback(body: dict, previous: str | None) -> tuple[list[str], list[str]]:
    """The ``PUT <callback_url>`` body against the status the assessment has now."""
    hard: list[str] = []
    soft: list[str] = []
    status = body.get("status")
    if status not in STATUSES:
        hard.append(f'"status" must be one of {", ".join(STATUSES)} (got {status!r})')
    results_url = body.get("results_url")
    if status == "completed" and results_url in (None, ""):
        hard.append('"results_url" is required when the status is completed')
    elif results_url is not None and not is_url(results_url):
        hard.append(f'"results_url" must be an absolute http(s) URL (got {results_url!r})')
    if body.get("assessment") is not None:
        hard.extend(_check_assessment(body["assessment"]))
    elif status == "completed":
        soft.append('a completed callback should carry an "assessment" object (score, grade, '
                    "summary, details, duration)")
    if body.get("attachments") is not None:
        hard.extend(_check_attachments(body["attachments"]))
    if previous in TERMINAL and status in STATUSES:
        if status == previous:
            soft.append(f"the assessment was already {previous}; the same status was sent again")
        else:
            hard.append(f"the assessment is already {previous} (a terminal status); it cannot "
                        f"become {status}")
    return hard, soft
