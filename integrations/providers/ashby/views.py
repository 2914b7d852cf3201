"""The partner endpoints Ashby calls (brief §4.2): RPC-style POSTs with a JSON body.

Authenticated by the connection's partner key in either HTTP Basic field (which one Ashby fills
is unconfirmed). Answers use Ashby's envelope: `{"success": true, "results": ...}`, and for a
refusal `{"success": false, "errors": [message], "message": message}` with the HTTP status
(400 malformed JSON, 401 bad key, 404 unknown assessment, 409 already being assessed, 413 too
large, 422 bad input; Ashby shows a 422's message to the recruiter).
"""

from __future__ import annotations

import logging

from django.db import transaction

from integrations import partner
from integrations.partner import json_body, json_response, partner_endpoint

from . import inbound, payloads, updates

log = logging.getLogger("integrations.ashby")


def error_response(status: int, code: str, message: str):
    response = json_response(payloads.error(message), status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Basic realm="Assay partner API (Ashby)"'
    return response


def ashby_endpoint(view):
    return partner_endpoint("ashby", "basic-either", methods=("POST",),
                            error_response=error_response)(view)


@ashby_endpoint
def assessment_list(request, connection):
    json_body(request, allow_empty=True)  # "{}" or any object; malformed JSON is still a 400
    return json_response(payloads.success(
        payloads.assessment_types(partner.offerings(connection))))


@ashby_endpoint
def assessment_start(request, connection):
    body = json_body(request)
    try:
        start = inbound.parse_start(body)
    except partner.PartnerError as exc:
        partner.record_call(connection, "assessment.start", body, f"refused: {exc.message}",
                            failed=True)
        raise
    timestamp = updates.now_ms()
    assessment, created = partner.start(
        connection, call="assessment.start", body=body,
        idempotency_key=start.idempotency_key, offering_id=start.assessment_type_id,
        candidate={"email": start.email, "first_name": start.first_name,
                   "last_name": start.last_name, "external_id": start.candidate_id},
        source_ref=start.source_ref(), busy_key=start.busy_key,
        state=updates.initial_state(timestamp))
    aid = str(assessment.public_id)
    state = assessment.state
    # A retry gets the same answer; once anything later was owed, the "Invited" update is left
    # out rather than replayed over a newer status.
    replay_ok = created or (state.get("sent_seq", [0])[0] == updates.INVITED
                            and assessment.invitation.status in ("created", "sent",
                                                                 "delivery_failed", "opened"))
    update_request = (payloads.invited(aid, int(state["invited_ts"]))
                      if replay_ok and state.get("invited_ts") else None)
    if not created:
        log.info("integrations.ashby.start.repeated connection=%s assessment=%s",
                 connection.public_id, aid)
    return json_response(payloads.success(payloads.start_results(aid, update_request)))


@ashby_endpoint
def assessment_cancel(request, connection):
    body = json_body(request)
    aid = body.get("assessment_id")
    if not isinstance(aid, str) or not aid.strip():
        raise partner.invalid("assessment_id is required (the id assessment.start returned)",
                              "missing_fields")
    assessment = partner.find(connection, aid.strip())
    if assessment is None:
        partner.record_call(connection, "assessment.cancel", body, f"unknown assessment {aid!r}",
                            failed=True)
        raise partner.not_found(f"no assessment {aid!r} for this connection")
    # Already completed, expired or cancelled: nothing to do, and still a success (Ashby may
    # retry a cancel; a completed result stays).
    with updates.cancelling_for_ashby(), transaction.atomic():
        partner.cancel(connection, assessment, call="assessment.cancel", body=body)
    return json_response(payloads.success({"assessment_id": aid.strip()}))


@ashby_endpoint
def custom_field_list(request, connection):
    json_body(request, allow_empty=True)
    return json_response(payloads.custom_fields())
