"""Reading a `send_test` body (brief §3.2): what to send, to whom, and where to PATCH.

The docs' JSON example nests the candidate under `candidate`, while their field table lists
the same fields flat; both are accepted (nested wins where both are given). Decisions:

- Required: `partner_test_id` (a string; a number is taken as its text), `candidate.email`
  and `url`. Greenhouse marks the names required too, but its convention is that missing values
  arrive as null, and a missing name does not stop us emailing the test, so names are optional.
- `preferred_name`, when given, is the first name we greet the candidate with (it is what they
  asked to be called); `first_name` otherwise. `last_name` is kept as sent.
- `resume_url` (expires after 7 days) and `phone_number` are ignored; `sent_by` is kept with
  the invitation's references for the admin.
- Idempotency (pitfall 29): one assessment per Greenhouse application × `partner_test_id`. The
  application is the `application_id` query parameter of `greenhouse_profile_url`; without it,
  the whole profile URL; without that, the candidate's email.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from integrations.partner import invalid

CANDIDATE_FIELDS = ("first_name", "last_name", "preferred_name", "email", "phone_number",
                    "resume_url", "greenhouse_profile_url")
MAX_TEXT = 2000


@dataclass(frozen=True)
class SendTest:
    partner_test_id: str
    candidate: dict  # our shape: email, first_name, last_name, external_id
    url: str
    idempotency_key: str
    source_ref: dict


def _text(value, field: str) -> str:
    """A string field (None → ""); anything else is a 422 naming the field."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise invalid(f"{field} must be a string or null (got {type(value).__name__})",
                      "invalid_field", field=field)
    if len(value) > MAX_TEXT:
        raise invalid(f"{field} is longer than {MAX_TEXT} characters", "invalid_field",
                      field=field)
    return value.strip()


def _candidate_fields(body: dict) -> dict:
    nested = body.get("candidate")
    if nested is not None and not isinstance(nested, dict):
        raise invalid("candidate must be an object", "invalid_field", field="candidate")
    nested = nested or {}
    fields = {}
    for name in CANDIDATE_FIELDS:
        value = nested.get(name)
        if value is None:
            value = body.get(name)  # the flat variant of the docs' table
        fields[name] = _text(value, f"candidate.{name}")
    return fields


def application_id(profile_url: str) -> str:
    """The `application_id` query parameter of a Greenhouse profile URL ('' when absent)."""
    try:
        query = parse_qs(urlsplit(profile_url).query)
    except ValueError:
        return ""
    for value in query.get("application_id") or []:
        if value.strip():
            return value.strip()[:100]
    return ""


def application_ref(profile_url: str, email: str) -> str:
    """What identifies the Greenhouse application, for idempotency (see the module's doc)."""
    found = application_id(profile_url)
    if found:
        return f"application:{found}"
    if profile_url:
        # Hashed so a long URL cannot push the test id out of the 300-character key.
        return "profile:" + hashlib.sha256(profile_url.encode()).hexdigest()
    return f"email:{email.lower()}"


def parse_send_test(body: dict) -> SendTest:
    """The send_test request as ours, or PartnerError 422 saying what is missing or wrong."""
    test_id = body.get("partner_test_id")
    if isinstance(test_id, int) and not isinstance(test_id, bool):
        test_id = str(test_id)
    test_id = _text(test_id, "partner_test_id")
    candidate = _candidate_fields(body)
    url = _text(body.get("url"), "url")
    missing = [name for name, value in (("partner_test_id", test_id),
                                        ("candidate.email", candidate["email"]),
                                        ("url", url)) if not value]
    if missing:
        raise invalid(f"missing required field{'s' if len(missing) > 1 else ''}: "
                      f"{', '.join(missing)}", "missing_field", fields=missing)
    sent_by = _text(body.get("sent_by"), "sent_by")
    profile = candidate["greenhouse_profile_url"]
    app_id = application_id(profile)
    ours = {"email": candidate["email"],
            "first_name": candidate["preferred_name"] or candidate["first_name"],
            "last_name": candidate["last_name"],
            "external_id": app_id}
    ref = {"application_id": app_id, "profile_url": profile[:500], "partner_test_id": test_id,
           "sent_by": sent_by}
    return SendTest(test_id, ours, url,
                    f"{application_ref(profile, candidate['email'])}|test:{test_id}",
                    {k: v for k, v in ref.items() if v})

