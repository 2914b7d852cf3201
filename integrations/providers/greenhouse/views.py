"""The four endpoints Greenhouse calls (brief §3.2), behind `partner.partner_endpoint`.

Authentication (the partner key as the Basic username), the body size limit, the tenant context
and the log lines (`integrations.greenhouse.<view>.{ok,refused,unauthorized,too_large}`) come
from the decorator; refusals use `payloads.error`'s shape. Every answer that changed something
is sent after its rows committed (`partner.start` commits before returning).
"""

from __future__ import annotations

import json
import logging

from django.conf import settings

from integrations import partner
from integrations.models import ExternalAssessment
from integrations.partner import (
    PartnerError,
    bad_request,
    invalid,
    json_body,
    json_response,
    not_found,
    partner_endpoint,
)

from . import payloads
from .inbound import parse_send_test

log = logging.getLogger("integrations.greenhouse")

PROVIDER, SCHEME = "greenhouse", "basic-username"


def error_response(status: int, code: str, message: str):
    return json_response(payloads.error(status, code, message), status)


def endpoint(*methods: str):
    return partner_endpoint(PROVIDER, SCHEME, methods=methods, error_response=error_response)


@endpoint("GET")
def list_tests(request, connection):
    """A bare JSON array of every catalog test and package the org offers (pitfall 15)."""
    return json_response(payloads.test_list(partner.offerings(connection)))


@endpoint("POST")
def send_test(request, connection):
    """Invite the candidate (once per application × test) and answer our id at once."""
    body = None
    try:
        body = json_body(request)
        order = parse_send_test(body)
        problem = partner.callback_url_problem(connection, order.url,
                                               settings.GREENHOUSE_CALLBACK_DOMAINS)
        if problem:
            raise invalid(problem, "invalid_url")
    except PartnerError as exc:
        partner.record_call(connection, "send_test",
                            body if body is not None else request.body.decode(errors="replace"),
                            f"refused ({exc.status}): {exc.message}", failed=True)
        raise
    assessment, created = partner.start(
        connection, call="send_test", body=body, idempotency_key=order.idempotency_key,
        offering_id=order.partner_test_id, candidate=order.candidate,
        source_ref=order.source_ref, state={"url": order.url})
    if not created and assessment.state.get("url") != order.url:
        # Sent again with another callback URL: the newest one is where Greenhouse listens.
        assessment.state = {**assessment.state, "url": order.url}
        ExternalAssessment.objects.filter(pk=assessment.pk).update(state=assessment.state)
        log.info("integrations.greenhouse.send_test.url_changed assessment=%s",
                 assessment.public_id)
    return json_response(payloads.interview(assessment))


@endpoint("GET")
def test_status(request, connection):
    """The assessment's status; once complete, the profile URL, score and flat metadata."""
    interview_id = request.GET.get("partner_interview_id", "").strip()
    if not interview_id:
        raise bad_request("the partner_interview_id query parameter is required",
                          "missing_parameter")
    assessment = partner.find(connection, interview_id)
    if assessment is None:
        raise not_found(f"no test with partner_interview_id {interview_id!r}")
    return json_response(payloads.test_status(assessment))


def _error_lines(value) -> list[str]:
    if isinstance(value, list):
        return [v if isinstance(v, str) else json.dumps(v) for v in value]
    if value in (None, ""):
        return []
    return [value if isinstance(value, str) else json.dumps(value)]


@endpoint("POST")
def response_error(request, connection):
    """Greenhouse could not use one of our answers: record it where the admin sees it."""
    body = json_body(request)
    call = body.get("api_call") if isinstance(body.get("api_call"), str) else None
    errors = _error_lines(body.get("errors"))
    about = [f"{name} {body[name]}" for name in ("partner_interview_id", "partner_test_id")
             if isinstance(body.get(name), str | int) and body.get(name) != ""]
    message = (f"Greenhouse could not use our {call or 'answer'}"
               + (f" ({', '.join(about)})" if about else "")
               + (f": {'; '.join(errors)}" if errors else ""))
    partner.record_call(connection, "response_error", body, message, failed=True)
    connection.record_error(message)
    log.warning("integrations.greenhouse.response_error connection=%s call=%s errors=%s",
                connection.public_id, call, errors)
    return json_response({"status": 200})
