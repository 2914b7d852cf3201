"""Workable's field names, in and out: the only module that knows them (brief §5, DESIGN §3.7).

Inbound, `start_request` reads a `POST /assessments` body into plain values and says exactly
what is wrong with a bad one (400 for a malformed field, 422 naming a missing required field, as
Workable's provider docs ask). Outbound, `callback` builds the body of each `PUT <callback_url>`
from our invitation and its result envelopes. No I/O here: `callback` runs inside the
transaction that changed the invitation.

Decisions on what the brief leaves [UNCONFIRMED] (docs/workable.md repeats them):
- `score` is sent as a JSON number (the envelope's integer); W2's example shows a string, so
  `Connection.config["score_format"] = "string"` switches one connection to `"82"`.
- `duration` is `"HH:MM:SS"` (W2's example), hours not capped at 24.
- `grade` (failed / passed / excelled) is left out: we have no pass mark, and a recruiter's
  verdict comes after completion, when Workable no longer accepts a status change.
- `details` maps each dimension's label to its integer score (several tests in a package: the
  label names the test too).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from integrations import summary
from integrations.partner import PartnerError, bad_request

# Status we send → its place in the sequence: a delivery below what was already sent is stale.
PENDING, COMPLETED, EXPIRED = "pending", "completed", "expired"
SEQUENCE = {PENDING: 1, COMPLETED: 2, EXPIRED: 2}
MAX_CALLBACK_URL = 300  # also the idempotency key's length (ExternalAssessment.idempotency_key)
MAX_SUMMARY = 4000
NAME_FIELDS = ("first_name", "last_name")
OPTIONAL_TEXT = {"job_shortcode": 100, "job_title": 300}


# --- inbound ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StartRequest:
    test_id: str
    callback_url: str
    email: str
    first_name: str
    last_name: str
    job_shortcode: str
    job_title: str


def missing(field: str) -> PartnerError:
    return PartnerError(422, "missing_field", f"missing required field: {field}")


def _text(data: dict, field: str, label: str, limit: int) -> str:
    value = data.get(field)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise bad_request(f"{label} must be a string", "invalid_field")
    value = str(value).strip()
    if len(value) > limit:
        raise bad_request(f"{label} is longer than {limit} characters", "invalid_field")
    return value


def start_request(data: dict) -> StartRequest:
    """The fields of a `POST /assessments` body, or PartnerError 400 / 422 saying which is bad.

    Required: test_id (a string or an integer: the docs' example lists numbers, partner code
    strings), callback_url, candidate.email. job_shortcode, job_title, candidate first/last name
    and phone are optional (phone is not kept: we never call candidates).
    """
    for field in ("test_id", "callback_url", "candidate"):
        value = data.get(field)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise missing(field)
    test_id = data["test_id"]
    if isinstance(test_id, bool) or not isinstance(test_id, str | int):
        raise bad_request("test_id must be a string or an integer", "invalid_field")
    callback_url = data["callback_url"]
    if not isinstance(callback_url, str):
        raise bad_request("callback_url must be a string (an absolute URL)", "invalid_field")
    callback_url = callback_url.strip()
    if len(callback_url) > MAX_CALLBACK_URL:
        raise bad_request(f"callback_url is longer than {MAX_CALLBACK_URL} characters",
                          "invalid_field")
    candidate = data["candidate"]
    if not isinstance(candidate, dict):
        raise bad_request("candidate must be an object with first_name, last_name, email",
                          "invalid_field")
    email = candidate.get("email")
    if email is None or (isinstance(email, str) and not email.strip()):
        raise missing("candidate.email")
    if not isinstance(email, str):
        raise bad_request("candidate.email must be a string", "invalid_field")
    email = email.strip().lower()
    try:
        EmailValidator()(email)
    except ValidationError:
        raise bad_request(f"candidate.email {email!r} is not a valid email address",
                          "invalid_field") from None
    names = {f: _text(candidate, f, f"candidate.{f}", 150) for f in NAME_FIELDS}
    job = {f: _text(data, f, f, limit) for f, limit in OPTIONAL_TEXT.items()}
    return StartRequest(test_id=str(test_id).strip(), callback_url=callback_url, email=email,
                        **names, **job)


def assessment_created(public_id) -> dict:
    return {"assessment_id": str(public_id)}


def tests_list(offerings) -> dict:
    """`GET /tests`: `{"tests": [{"id", "name"}]}`; ids are our offering ids (strings)."""
    return {"tests": [{"id": o.id, "name": o.name} for o in offerings]}


def shared_link(url: str, minutes: int) -> dict:
    return {"url": url, "ttl": str(minutes), "ttl_units": "minutes"}


def error(status: int, message: str) -> dict:
    """Workable's error shape for provider endpoints (brief §5.2)."""
    return {"status": status, "message": message}


# --- outbound -----------------------------------------------------------------------------------

def clock(seconds: int) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def completed(invitation, *, score_format: str = "number") -> dict:
    """The completed callback: results_url (mandatory), score, summary, details, duration."""
    envelopes = summary.envelopes(invitation)
    assessment: dict = {}
    overall = summary.overall_score(envelopes)
    if overall is not None:
        assessment["score"] = str(overall) if score_format == "string" else overall
    assessment["summary"] = summary.summary_text(envelopes)[:MAX_SUMMARY]
    assessment["details"] = {label: score for _key, label, score
                             in summary.dimension_scores(envelopes)}
    assessment["duration"] = clock(summary.duration_seconds(envelopes))
    return {"status": COMPLETED, "results_url": summary.report_url(invitation),
            "assessment": assessment}


def callback(status: str, invitation=None, *, score_format: str = "number") -> dict:
    if status == COMPLETED:
        return completed(invitation, score_format=score_format)
    return {"status": status}
