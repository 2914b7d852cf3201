"""What Ashby sends us on `assessment.start` (brief §4.2), read into plain values.

Ashby's spec marks every candidate, application and job field required; we insist only on what
we act on, so a body that lacks a field we never read still starts the assessment:

- `assessment_type_id` (the test or package) and `candidate.email` (whom to invite);
- `application.ashby_id` is the idempotency key with the type (brief §7.29); without it we fall
  back to (type, email), as a real partner does;
- `application.status` other than Active or Lead (Hired, Archived, ...) is refused: inviting a
  hired or archived applicant is almost certainly a mistake, and Ashby shows our 422 message.

Every problem found is named in one 422 message, so the recruiter fixes them all at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from integrations.partner import invalid

ACCEPTED_STATUSES = ("active", "lead")


@dataclass(frozen=True)
class StartRequest:
    assessment_type_id: str
    email: str
    first_name: str
    last_name: str
    candidate_id: str
    application_id: str
    application_status: str
    job_id: str
    job_name: str
    profile_url: str

    @property
    def idempotency_key(self) -> str:
        """One assessment per Ashby application and type; retries return the same one."""
        if self.application_id:
            return f"application:{self.application_id}:{self.assessment_type_id}"
        return f"email:{self.email.lower()}:{self.assessment_type_id}"

    @property
    def busy_key(self) -> str:
        """The same person assessed for the same type under another application: a 409."""
        who = f"candidate:{self.candidate_id}" if self.candidate_id else (
            f"email:{self.email.lower()}")
        return f"{who}:{self.assessment_type_id}"

    def source_ref(self) -> dict:
        return {key: value for key, value in (
            ("ashby_candidate_id", self.candidate_id),
            ("ashby_application_id", self.application_id),
            ("ashby_job_id", self.job_id), ("job_name", self.job_name),
            ("ashby_profile_url", self.profile_url)) if value}


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else (
        str(value) if isinstance(value, int | float) and not isinstance(value, bool) else "")


def _object(body: dict, name: str, problems: list[str]) -> dict:
    value = body.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.append(f"{name} must be an object")
        return {}
    return value


def parse_start(body: dict) -> StartRequest:
    """The start request, or PartnerError 422 naming every missing or malformed field."""
    problems: list[str] = []
    type_id = _text(body.get("assessment_type_id"))
    if not type_id:
        problems.append("assessment_type_id is required (an id from assessment.list)")
    if "candidate" not in body:
        problems.append("candidate is required")
    candidate = _object(body, "candidate", problems)
    application = _object(body, "application", problems)
    job = _object(body, "job", problems)
    email = _text(candidate.get("email"))
    if isinstance(body.get("candidate"), dict) and not email:
        problems.append("candidate.email is required")
    status = _text(application.get("status"))
    if problems:
        raise invalid("; ".join(problems), "missing_fields")
    if status and status.lower() not in ACCEPTED_STATUSES:
        raise invalid(f"the application is {status} in Ashby: assessments are sent only to "
                      "Active or Lead applications", "application_not_active")
    return StartRequest(
        assessment_type_id=type_id, email=email,
        first_name=_text(candidate.get("first_name")),
        last_name=_text(candidate.get("last_name")),
        candidate_id=_text(candidate.get("ashby_id")),
        application_id=_text(application.get("ashby_id")),
        application_status=status or "Active",
        job_id=_text(job.get("ashby_id")), job_name=_text(job.get("name")),
        profile_url=_text(candidate.get("ashby_profile_url")))
