"""Every Greenhouse field name we write, in one place (brief §3.2, pitfalls 14-15).

- `test_list`: `list_tests` is a *bare* JSON array of {partner_test_id, partner_test_name}.
- `interview`: `send_test`'s answer, {partner_interview_id} (our ExternalAssessment.public_id).
- `test_status`: partner_status (lowercase "complete" exactly once results are ready, a clear
  lowercase word before), partner_profile_url, partner_score and a *flat* metadata object of
  primitives. Greenhouse's convention is that missing values are sent as null, never left out,
  so every key is always present.
- `error`: our refusals. Greenhouse reads only the status code; the body is for the person
  reading its logs: {"status": <code>, "error": <machine code>, "message": <sentence>}, the same
  shape as the {"status": 200} the docs show for response_error.
"""

from __future__ import annotations

from datetime import UTC, datetime

from assessments.models import InvitationStatus as S
from integrations import summary

DONE = "complete"  # exactly this; "COMPLETE" or "completed" leave the test pending in Greenhouse

# Our invitation status → partner_status while the test is not complete (free text per the docs).
STATUS_WORDS = {
    S.CREATED: "invited",
    S.SENT: "invited",
    S.DELIVERY_FAILED: "email_failed",
    S.OPENED: "opened",
    S.STARTED: "in_progress",
    S.COMPLETED: DONE,
    S.EXPIRED: "expired",
    S.CANCELLED: "cancelled",
}

VERDICTS = {"up": "Thumbs up", "down": "Thumbs down"}


def test_list(offerings) -> list[dict]:
    """What Greenhouse lists in its "Send Test" menu: catalog tests and the org's packages."""
    return [{"partner_test_id": str(o.id), "partner_test_name": str(o.name)} for o in offerings]


def interview(assessment) -> dict:
    return {"partner_interview_id": str(assessment.public_id)}


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def metadata(invitation, envelopes: list[dict]) -> dict:
    """Flat label → primitive: each dimension's integer score, then a few facts.

    Dimension labels come first (a package names the test: "Big Five: Extraversion"); a fact
    whose label a dimension already uses is prefixed "Assay " rather than overwrite a score.
    """
    data: dict = {label: score for _key, label, score in summary.dimension_scores(envelopes)}
    flags = sorted({flag for e in envelopes for flag in (e.get("quality") or {}).get("flags")
                    or []})
    seconds = summary.duration_seconds(envelopes)
    facts = {
        "Started At": _iso(invitation.started_at),
        "Completed At": _iso(invitation.completed_at),
        "Time Taken (minutes)": round(seconds / 60, 1) if envelopes else None,
        "Quality Flags": ", ".join(flag.replace("_", " ") for flag in flags) or "none",
        "Verdict": VERDICTS.get(invitation.verdict),
    }
    for label, value in facts.items():
        data[f"Assay {label}" if label in data else label] = value
    return data


def test_status(assessment, envelopes: list[dict] | None = None) -> dict:
    """The test_status answer for one assessment; `envelopes` are read when complete."""
    invitation = assessment.invitation
    status = STATUS_WORDS.get(invitation.status, str(invitation.status))
    if status != DONE:
        return {"partner_status": status, "partner_profile_url": None, "partner_score": None,
                "metadata": None}
    if envelopes is None:
        envelopes = summary.envelopes(invitation)
    return {"partner_status": DONE,
            "partner_profile_url": summary.report_url(invitation),
            "partner_score": summary.overall_score(envelopes),
            "metadata": metadata(invitation, envelopes)}


def error(status: int, code: str, message: str) -> dict:
    return {"status": status, "error": code, "message": message}
