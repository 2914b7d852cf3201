"""The provider endpoints Workable calls (brief §5): `GET tests`, `POST assessments` and the
optional `GET assessments/<id>/shared-link`, all with `Authorization: Bearer <our partner key>`.

`integrations.partner.partner_endpoint` does what every partner ATS shares (401, 405, 413,
tenant context, log lines); refusals come back in Workable's shape `{"status", "message"}`.
`POST assessments` is idempotent on `callback_url` (brief §7.29): the same URL again answers 200
with the same `assessment_id`; with another test or candidate it is a 409, as it is once that
assessment expired or was cancelled (we told Workable so, and its record is final).
"""

from __future__ import annotations

import logging

from django.conf import settings

from assessments.models import InvitationStatus
from integrations import partner, summary
from integrations.models import ExternalAssessment
from integrations.partner import PartnerError, json_body, json_response, partner_endpoint

from . import payloads

log = logging.getLogger("integrations.workable")

PROVIDER = "workable"
SHARED_LINK_MINUTES = 120


def error_response(status: int, code: str, message: str):
    return json_response(payloads.error(status, message), status)


def endpoint(*methods: str):
    return partner_endpoint(PROVIDER, "bearer", methods=methods, error_response=error_response)


@endpoint("GET")
def tests(request, connection):
    return json_response(payloads.tests_list(partner.offerings(connection)))


def _refuse(connection, body, exc: PartnerError) -> PartnerError:
    partner.record_call(connection, "assessments", body, f"refused {exc.status}: {exc.message}",
                        failed=True)
    return exc


def _conflict(assessment: ExternalAssessment, request: payloads.StartRequest) -> str | None:
    """Why a start with an already used callback_url cannot be the same assessment."""
    invitation = assessment.invitation
    if invitation.status in (InvitationStatus.EXPIRED, InvitationStatus.CANCELLED):
        return (f"the assessment for this callback_url ({assessment.public_id}) is already "
                f"{invitation.status}; create a new assessment in Workable")
    if assessment.offering_id != request.test_id:
        return (f"this callback_url already has assessment {assessment.public_id} for test "
                f"{assessment.offering_id!r}, not {request.test_id!r}")
    if invitation.candidate.email != request.email:
        return (f"this callback_url already has assessment {assessment.public_id} for another "
                "candidate")
    return None


@endpoint("POST")
def assessments(request, connection):
    raw = request.body.decode("utf-8", errors="replace")
    try:
        wanted = payloads.start_request(json_body(request))
        problem = partner.callback_url_problem(connection, wanted.callback_url,
                                               settings.WORKABLE_CALLBACK_DOMAINS)
        if problem:
            raise partner.bad_request(problem, "invalid_callback_url")
    except PartnerError as exc:
        raise _refuse(connection, raw, exc) from None
    earlier = (ExternalAssessment.objects.select_related("invitation__candidate")
               .filter(connection=connection, idempotency_key=wanted.callback_url).first())
    conflict = _conflict(earlier, wanted) if earlier is not None else None
    if conflict:
        raise _refuse(connection, raw, PartnerError(409, "conflict", conflict))
    job = {k: v for k, v in (("job_shortcode", wanted.job_shortcode),
                             ("job_title", wanted.job_title)) if v}
    assessment, created = partner.start(
        connection, call="assessments", body=raw, idempotency_key=wanted.callback_url,
        offering_id=wanted.test_id,
        candidate={"email": wanted.email, "first_name": wanted.first_name,
                   "last_name": wanted.last_name},
        source_ref={"callback_url": wanted.callback_url, **job},
        state={"callback_url": wanted.callback_url, **job})
    if not created:
        # A concurrent start with other values may have won the race: same rules as above.
        assessment = (ExternalAssessment.objects.select_related("invitation__candidate")
                      .get(pk=assessment.pk))
        conflict = _conflict(assessment, wanted)
        if conflict:
            raise _refuse(connection, raw, PartnerError(409, "conflict", conflict))
        log.info("integrations.workable.assessments.repeat connection=%s assessment=%s",
                 connection.public_id, assessment.public_id)
    return json_response(payloads.assessment_created(assessment.public_id),
                         201 if created else 200)


@endpoint("GET")
def shared_link(request, connection, assessment_id: str):
    assessment = partner.find(connection, assessment_id)
    if assessment is None:
        raise partner.not_found(f"no assessment {assessment_id!r} on this connection")
    return json_response(payloads.shared_link(summary.report_url(assessment.invitation),
                                              SHARED_LINK_MINUTES))
