"""What Ashby receives from us, in Ashby's field names (brief §4.2, §4.3; DESIGN §3.7).

The only module that knows the shape of Ashby's answers and of an `assessment.update` body. It
reads our results through `integrations.summary`, so a package of several tests becomes one
assessment: one overall score, every dimension's score as metadata, one report link.

Every value Ashby shows is an "assessment data value" blob: identifier (unique per field),
label, type (one of five) and value. Timestamps are added by `updates.py` at send time.
"""

from __future__ import annotations

from integrations import summary

BLOB_TYPES = ("numeric_score", "numeric_duration_minutes", "url", "string", "boolean_success")

INVITED, STARTED, COMPLETED = "Invited", "Started", "Completed"
REASONS = {
    # event -> (label, value) of the cancelled_reason blob
    "cancelled_by_ashby": ("Cancelled", "Cancelled in Ashby"),
    "cancelled": ("Cancelled", "Cancelled in Assay by the hiring team"),
    "expired": ("Expired", "The candidate did not complete the assessment before its link "
                           "expired"),
}


def blob(identifier: str, label: str, kind: str, value, description: str | None = None) -> dict:
    if kind not in BLOB_TYPES:
        raise ValueError(f"Ashby has no blob type {kind!r}")
    found = {"identifier": identifier, "label": label, "type": kind, "value": value}
    if description:
        found["description"] = description
    return found


def status_blob(value: str) -> dict:
    return blob("status", "Status", "string", value)


# --- partner endpoint answers -------------------------------------------------------------------

def success(results) -> dict:
    return {"success": True, "results": results}


def error(message: str) -> dict:
    """Ashby's error envelope; `message` too, because Ashby shows a 422's message to the user."""
    return {"success": False, "errors": [message], "message": message}


def assessment_types(offerings) -> list[dict]:
    """assessment.list results: every catalog test and package the org offers."""
    found = []
    for offering in offerings:
        description = offering.description or ""
        if offering.minutes:
            description = f"{description} (about {offering.minutes} minutes)".strip()
        found.append({"assessment_type_id": offering.id, "name": offering.name,
                      "description": description})
    return found


def start_results(assessment_id: str, update_request: dict | None) -> dict:
    results = {"assessment_id": assessment_id}
    if update_request is not None:
        results["update_request"] = update_request
    return results


def custom_fields() -> dict:
    """assessment.customField.list: we ask for nothing beyond what start carries."""
    return {"success": True, "fields": []}


# --- assessment.update bodies (without the timestamp) -------------------------------------------

def invited(assessment_id: str, timestamp: int) -> dict:
    """The update_request in start's answer: a complete update, timestamp included."""
    return {"assessment_id": assessment_id, "timestamp": timestamp,
            "assessment_status": status_blob(INVITED)}


def started(assessment_id: str) -> dict:
    return {"assessment_id": assessment_id, "assessment_status": status_blob(STARTED)}


def minutes(seconds: int) -> int:
    return max(1, round(seconds / 60)) if seconds > 0 else 0


def completed(assessment_id: str, invitation) -> dict:
    """The completion: status, result (marks it complete), report link, dimension scores."""
    found = summary.envelopes(invitation)
    overall = summary.overall_score(found)
    if overall is None:  # nothing could be scored (e.g. too few answers): still complete it
        result = blob("score", "Assay score", "string", "Not scored: see the report")
    else:
        result = blob("score", "Assay score", "numeric_score", overall,
                      "0-100, the candidate's percentile against the test's norm group")
    metadata = [blob(f"dim_{key}", label, "numeric_score", score)
                for key, label, score in summary.dimension_scores(found)]
    metadata.append(blob("duration", "Time taken", "numeric_duration_minutes",
                         minutes(summary.duration_seconds(found))))
    return {"assessment_id": assessment_id, "assessment_status": status_blob(COMPLETED),
            "assessment_result": result,
            "assessment_profile_url": blob("report_url", "Assay report", "url",
                                           summary.report_url(invitation)),
            "metadata": metadata}


def with_verdict(body: dict, verdict: str) -> dict:
    """The completion again, plus the recruiter's thumbs up (true) or down (false)."""
    metadata = [m for m in body.get("metadata", []) if m["identifier"] != "verdict"]
    metadata.append(blob("verdict", "Recruiter verdict", "boolean_success", verdict == "up"))
    return {**body, "metadata": metadata}


def cancelled(assessment_id: str, why: str) -> dict:
    label, value = REASONS[why]
    return {"assessment_id": assessment_id,
            "cancelled_reason": blob("cancelled_reason", label, "string", value)}
