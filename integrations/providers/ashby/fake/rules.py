"""The brief's rules (§4.2, §4.3, §7 items 19–21) as pure functions returning error lists.

Kept free of state and HTTP so each rule is easy to read against the brief and to test alone. An
empty list means the partner met every rule; every string is one broken rule, said plainly.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlsplit

BLOB_TYPES = ("numeric_score", "numeric_duration_minutes", "url", "string", "boolean_success")
BLOB_FIELDS = ("assessment_status", "assessment_result", "assessment_profile_url",
               "cancelled_reason")
MIN_MS = 10**12  # 2001-09-09 in ms; anything smaller is seconds (or garbage)
MAX_MS = 10**13  # 2286 in ms; anything bigger is micro- or nanoseconds
LIBRARY_AGENTS = ("python-requests/", "python-urllib/", "python-urllib3/", "python-httpx/",
                  "python/3", "aiohttp/")


def is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def is_absolute_http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def is_number(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def check_blob(blob: Any, where: str) -> list[str]:
    """An "assessment data value": identifier, label, type, value (description optional)."""
    if not isinstance(blob, dict):
        return [f"{where} must be an object with identifier, label, type and value"]
    errors = [f"{where}.{key} is required" for key in ("identifier", "label", "type", "value")
              if key not in blob]
    for key in ("identifier", "label"):
        if key in blob and not is_text(blob[key]):
            errors.append(f"{where}.{key} must be a non-empty string")
    if "description" in blob and not isinstance(blob["description"], str):
        errors.append(f"{where}.description must be a string when sent")
    kind, value = blob.get("type"), blob.get("value")
    if "type" in blob and kind not in BLOB_TYPES:
        errors.append(f"{where}.type {kind!r} is not one of {', '.join(BLOB_TYPES)}")
    elif "value" in blob and kind in BLOB_TYPES:
        fits = {
            "numeric_score": is_number,
            "numeric_duration_minutes": is_number,
            "url": is_absolute_http_url,
            "boolean_success": lambda v: isinstance(v, bool),
            "string": lambda v: isinstance(v, str),
        }[kind](value)
        if not fits:
            wanted = {"numeric_score": "a number", "numeric_duration_minutes": "a number",
                      "url": "an absolute http(s) URL", "boolean_success": "true or false",
                      "string": "a string"}[kind]
            errors.append(f"{where}.value {value!r} does not fit type {kind} (want {wanted})")
    return errors


def check_blob_list(items: Any, where: str) -> list[str]:
    if not isinstance(items, list):
        return [f"{where} must be a list of blobs"]
    errors: list[str] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        errors += check_blob(item, f"{where}[{i}]")
        ident = item.get("identifier") if isinstance(item, dict) else None
        if isinstance(ident, str):
            if ident in seen:
                errors.append(f"{where} identifier {ident!r} is used twice (must be unique)")
            seen.add(ident)
    return errors


def check_timestamp(value: Any, previous: int | None, where: str = "timestamp") -> list[str]:
    """Integer milliseconds since the epoch, strictly after the previous accepted one."""
    if isinstance(value, bool) or not isinstance(value, int):
        return [f"{where} must be an integer of milliseconds since the epoch, not "
                f"{type(value).__name__} {value!r}"]
    if not MIN_MS < value < MAX_MS:
        return [f"{where} {value} is not plausibly milliseconds since the epoch "
                f"(seconds or microseconds?)"]
    if previous is not None and value <= previous:
        return [f"{where} {value} is not after the previous update's {previous} "
                "(timestamps must increase per assessment)"]
    return []


def check_update(body: Any, previous_ts: int | None) -> list[str]:
    """An assessment.update body (brief §4.3), apart from whether the assessment exists."""
    if not isinstance(body, dict):
        return ["the body must be a JSON object"]
    errors: list[str] = []
    if not is_text(body.get("assessment_id")):
        errors.append("assessment_id is required (the id the partner returned from start)")
    if "timestamp" not in body:
        errors.append("timestamp is required")
    else:
        errors += check_timestamp(body["timestamp"], previous_ts)
    if "assessment_status" not in body and "cancelled_reason" not in body:
        errors.append("assessment_status is required unless cancelled_reason is sent")
    for name in BLOB_FIELDS:
        if name in body:
            errors += check_blob(body[name], name)
    if "assessment_result" in body:
        if "assessment_profile_url" not in body:
            errors.append("assessment_profile_url is required when assessment_result is sent")
    profile = body.get("assessment_profile_url")
    if isinstance(profile, dict) and profile.get("type") != "url":
        errors.append("assessment_profile_url.type must be 'url'")
    if "metadata" in body:
        errors += check_blob_list(body["metadata"], "metadata")
    return errors


def check_add_completed(body: Any) -> list[str]:
    """assessment.addCompletedToCandidate (brief §4.3)."""
    if not isinstance(body, dict):
        return ["the body must be a JSON object"]
    errors = [f"{key} is required (a non-empty string)" for key in ("candidateId", "partnerId")
              if not is_text(body.get(key))]
    errors += check_timestamp(body.get("timestamp"), None) if "timestamp" in body else [
        "timestamp is required"]
    assessment = body.get("assessment")
    if not isinstance(assessment, dict):
        return [*errors, "assessment is required (an object)"]
    errors += [f"assessment.{key} is required (a non-empty string)"
               for key in ("assessmentTypeId", "assessmentId", "assessmentName")
               if not is_text(assessment.get(key))]
    if "result" not in assessment:
        errors.append("assessment.result is required")
    else:
        errors += check_blob(assessment["result"], "assessment.result")
    if "metadata" not in assessment:
        errors.append("assessment.metadata is required (a list, may be empty)")
    else:
        errors += check_blob_list(assessment["metadata"], "assessment.metadata")
    return errors


def check_user_agent(value: str | None) -> str | None:
    """Why Cloudflare would refuse this User-Agent (brief §7.19), or None."""
    if not value or not value.strip():
        return "the User-Agent is empty or missing"
    if value.strip().lower().startswith(LIBRARY_AGENTS):
        return f"the User-Agent {value!r} is an HTTP library's default"
    return None


def accepts_version_1(value: str | None) -> bool:
    """``Accept: application/json; version=1`` (spacing and case aside)."""
    for part in (value or "").split(","):
        media, *params = (p.strip().lower() for p in part.split(";"))
        if media == "application/json" and "version=1" in [p.replace(" ", "") for p in params]:
            return True
    return False


# --- what the partner answers to Ashby's calls -----------------------------------------------

def check_envelope_true(body: Any) -> list[str]:
    if not isinstance(body, dict):
        return ["the answer must be a JSON object"]
    if body.get("success") is not True:
        return ['the answer must carry "success": true']
    return []


def check_list_answer(status: int | None, body: Any) -> list[str]:
    if status != 200:
        return [f"assessment.list must answer 200, not {status}"]
    errors = check_envelope_true(body)
    if errors:
        return errors
    results = body.get("results")
    if not isinstance(results, list):
        return ["results must be a list of assessment types"]
    seen: set[str] = set()
    for i, item in enumerate(results):
        if not isinstance(item, dict):
            errors.append(f"results[{i}] must be an object")
            continue
        for key in ("assessment_type_id", "name"):
            if not is_text(item.get(key)):
                errors.append(f"results[{i}].{key} is required (a non-empty string)")
        if "description" in item and not isinstance(item["description"], str):
            errors.append(f"results[{i}].description must be a string when sent")
        type_id = item.get("assessment_type_id")
        if isinstance(type_id, str):
            if type_id in seen:
                errors.append(f"assessment_type_id {type_id!r} is listed twice")
            seen.add(type_id)
    return errors


def check_start_answer(status: int | None, body: Any) -> list[str]:
    """200 with an assessment_id, or a 409 / 422-with-message refusal (update_request apart)."""
    if status == 409:
        return []
    if status == 422:
        if isinstance(body, dict) and is_text(body.get("message")):
            return []
        return ['a 422 must carry {"message": "..."}: Ashby shows it to the user']
    if status != 200:
        return [f"assessment.start must answer 200, 409 or 422, not {status}"]
    errors = check_envelope_true(body)
    if errors:
        return errors
    results = body.get("results")
    if not isinstance(results, dict):
        return ["results must be an object with assessment_id"]
    if not is_text(results.get("assessment_id")):
        errors.append("results.assessment_id is required (a non-empty string)")
    if "update_request" in results and not isinstance(results["update_request"], dict):
        errors.append("results.update_request must be an assessment.update-shaped object")
    return errors


def check_cancel_answer(status: int | None, body: Any) -> list[str]:
    if status != 200:
        return [f"assessment.cancel must answer 200, not {status}"]
    if not isinstance(body, dict) or not isinstance(body.get("success"), bool):
        return ['the answer must be an envelope with "success": true or false']
    if body["success"] is False:
        errors = body.get("errors")
        if not (isinstance(errors, list) and errors and all(isinstance(e, str) for e in errors)):
            return ['an error envelope must carry "errors": a non-empty list of strings']
    return []
