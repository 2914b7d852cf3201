"""Our Greenhouse partner endpoints (brief §3.1-3.4): auth, every recorded body, bad input,
idempotency, packages, and what test_status and response_error answer."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from assessments.invitations import cancel_invitation, give_verdict
from assessments.models import Invitation
from assessments.models import TestPackage as Package
from integrations import partner_keys
from integrations.models import Connection, ExternalAssessment, InboundEvent, PartnerKey
from integrations.partner import MAX_BODY_BYTES
from tenants.context import tenant_context
from tests.integrations.contract import complete_invitation
from tests.integrations.greenhouse.conftest import (
    TAKE_HOME,
    TEST,
    basic,
    call,
    connect,
    fixture,
    send,
    status,
)
from tests.rls_rows import catalog_test

pytestmark = pytest.mark.django_db

SECOND_TEST = "resilience-ipip-proxy"


def invitations(connection) -> list[Invitation]:
    with tenant_context(connection.org):
        return list(Invitation.objects.filter(source="greenhouse").select_related("candidate")
                    .order_by("pk"))


def assessments(connection) -> list[ExternalAssessment]:
    with tenant_context(connection.org):
        return list(ExternalAssessment.objects.filter(connection=connection).order_by("pk"))


def events(connection, call_name: str | None = None) -> list[InboundEvent]:
    with tenant_context(connection.org):
        rows = InboundEvent.objects.filter(connection=connection).order_by("pk")
        return list(rows.filter(event_type=call_name) if call_name else rows)


# --- auth ----------------------------------------------------------------------------------------

def test_the_key_as_basic_username_with_an_empty_password_is_accepted(client, greenhouse):
    connection, key = greenhouse
    assert len(key) < 171
    forms = {
        "docs form": basic(key),
        "no colon": "Basic " + base64.b64encode(key.encode()).decode(),
        "lowercase scheme": "basic " + base64.b64encode(f"{key}:".encode()).decode(),
        "password present": basic(key, "ignored"),
    }
    for name, header in forms.items():
        response = call(client, None, "GET", "list_tests", authorization=header)
        assert response.status_code == 200, (name, response.content)
    with tenant_context(connection.org):
        connection.refresh_from_db()
    assert connection.last_inbound_at is not None


@pytest.mark.parametrize("endpoint", [("GET", "list_tests"), ("POST", "send_test"),
                                      ("GET", "test_status"), ("POST", "response_error")])
def test_every_endpoint_refuses_bad_auth_with_401_and_no_effect(client, greenhouse, org_b,
                                                                 endpoint):
    connection, key = greenhouse
    other_org, other_key = connect(org_b)
    ashby, ashby_key = connect(org_b, provider="ashby")
    method, name = endpoint
    refused = {
        "missing": "",
        "bearer": f"Bearer {key}",
        "key as password": basic("", key),
        "unknown key": basic("assay_pk_" + "x" * 43),
        "not base64": "Basic !!!not-base64!!!",
        "another provider's key": basic(ashby_key),
        "too long": basic(key + "x" * 200),
    }
    body = fixture("send_test__full") if name == "send_test" else fixture("response_error__example")
    for label, header in refused.items():
        response = call(client, None, method, name, body if method == "POST" else None,
                        authorization=header, query="partner_interview_id=x")
        assert response.status_code == 401, (label, response.content)
        assert response.json() == {"status": 401, "error": "unauthorized",
                                   "message": "missing, unknown or expired key"}
    assert invitations(connection) == [] and events(connection) == []
    assert other_org.pk != connection.pk and ashby.provider == "ashby"


def test_expired_revoked_and_rotated_keys(client, org_a):
    connection, first = connect(org_a)
    with tenant_context(org_a):
        second = partner_keys.issue(connection)  # 7-day overlap: both work
    assert call(client, first, "GET", "list_tests").status_code == 200
    assert call(client, second, "GET", "list_tests").status_code == 200
    with tenant_context(org_a):
        third = partner_keys.issue(connection, overlap=None)  # the older ones stop at once
        partner_keys.revoke(PartnerKey.objects.get(key_hash=partner_keys.hash_key(third)))
        fourth = partner_keys.issue(connection, overlap=timedelta(days=1))
        PartnerKey.objects.filter(key_hash=partner_keys.hash_key(fourth)).update(
            expires_at=timezone.now() - timedelta(seconds=1))
    for key in (first, second, third, fourth):
        assert call(client, key, "GET", "list_tests").status_code == 401


def test_a_disconnected_connection_is_refused(client, greenhouse):
    connection, key = greenhouse
    with tenant_context(connection.org):
        Connection.objects.filter(pk=connection.pk).update(status="disconnected")
    assert call(client, key, "GET", "list_tests").status_code == 401


# --- list_tests ------------------------------------------------------------------------------

def test_list_tests_is_a_bare_array_of_strings_with_packages(client, greenhouse):
    connection, key = greenhouse
    catalog_test(SECOND_TEST)
    with tenant_context(connection.org):
        Package.objects.create(org=connection.org, name="Graduate pack", slug="grad",
                                   tests=[TEST, SECOND_TEST])
    response = call(client, key, "GET", "list_tests")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    tests = response.json()
    assert isinstance(tests, list)
    assert all(set(t) == {"partner_test_id", "partner_test_name"} for t in tests)
    assert all(isinstance(v, str) and v for t in tests for v in t.values())
    ids = [t["partner_test_id"] for t in tests]
    assert ids[0] == "package:grad" and {TEST, SECOND_TEST} <= set(ids)
    assert tests[0]["partner_test_name"] == "Graduate pack"


def test_list_tests_is_a_get(client, greenhouse):
    _, key = greenhouse
    response = call(client, key, "POST", "list_tests", {})
    assert response.status_code == 405 and response["Allow"] == "GET"
    assert response.json()["status"] == 405


# --- send_test: recorded bodies ------------------------------------------------------------------

def test_the_docs_example_invites_the_candidate_and_answers_our_id(
        client, greenhouse, django_capture_on_commit_callbacks):
    connection, key = greenhouse
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = send(client, key, fixture("send_test__full"))
    assert response.status_code == 200, response.content
    [assessment] = assessments(connection)
    assert response.json() == {"partner_interview_id": str(assessment.public_id)}
    [invitation] = invitations(connection)
    assert assessment.invitation_id == invitation.pk
    assert assessment.idempotency_key == f"application:26234709|test:{TEST}"
    assert assessment.state == {"url": f"{TAKE_HOME}/12345"}
    assert (invitation.candidate.email, invitation.candidate.first_name,
            invitation.candidate.last_name) == ("hpotter@example.edu", "Harry", "Potter")
    assert invitation.source_ref["application_id"] == "26234709"
    assert invitation.source_ref["sent_by"] == "recruiter@customer.example"
    assert invitation.source_ref["connection_id"] == str(connection.public_id)
    with tenant_context(connection.org):
        assert [t.catalog_test.slug for t in invitation.tests.all()] == [TEST]
    assert not invitation.sandbox
    assert len(callbacks) == 1  # the email task, queued once the rows commit
    [event] = events(connection, "send_test")
    assert event.status == "processed" and "created" in event.outcome


@pytest.mark.parametrize("name,first,last", [
    ("send_test__no_optional", "Hermione", "Granger"),
    ("send_test__preferred_name", "Ron", "Weasley"),  # preferred name greets the candidate
    ("send_test__flat", "Luna", "Lovegood"),  # the docs' table lists the fields flat
])
def test_every_recorded_body_is_accepted(client, greenhouse, name, first, last):
    connection, key = greenhouse
    body = fixture(name)
    response = send(client, key, body)
    assert response.status_code == 200, response.content
    [invitation] = invitations(connection)
    assert (invitation.candidate.first_name, invitation.candidate.last_name) == (first, last)
    [assessment] = assessments(connection)
    assert assessment.state["url"] == body["url"]


def test_a_sandbox_connection_makes_sandbox_invitations_and_may_call_back_anywhere(
        client, sandbox):
    connection, key = sandbox
    body = fixture("send_test__full", url="http://127.0.0.1:8002/take_home_tests/1")
    assert send(client, key, body).status_code == 200
    [invitation] = invitations(connection)
    assert invitation.sandbox


# --- send_test: idempotency ----------------------------------------------------------------------

def test_the_same_application_and_test_twice_is_one_invitation_and_one_email(
        client, greenhouse, django_capture_on_commit_callbacks):
    connection, key = greenhouse
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = send(client, key, fixture("send_test__full"))
        again = send(client, key, fixture("send_test__full", sent_by="other@customer.example"))
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert len(invitations(connection)) == 1 and len(callbacks) == 1


def test_another_test_for_the_same_application_is_another_invitation(client, greenhouse):
    connection, key = greenhouse
    catalog_test(SECOND_TEST)
    first = send(client, key, fixture("send_test__full")).json()
    second = send(client, key, fixture("send_test__full", partner_test_id=SECOND_TEST)).json()
    assert first != second and len(invitations(connection)) == 2


def test_sent_again_with_a_new_url_keeps_the_id_and_the_newest_url(client, greenhouse):
    connection, key = greenhouse
    first = send(client, key, fixture("send_test__full")).json()
    again = send(client, key, fixture("send_test__full", url=f"{TAKE_HOME}/999")).json()
    assert first == again
    [assessment] = assessments(connection)
    assert assessment.state["url"] == f"{TAKE_HOME}/999"


def test_after_a_cancel_the_same_send_starts_anew(client, greenhouse):
    connection, key = greenhouse
    first = send(client, key, fixture("send_test__full")).json()
    cancel_invitation(invitations(connection)[0])
    again = send(client, key, fixture("send_test__full")).json()
    assert first != again and len(invitations(connection)) == 2


def test_without_application_id_the_profile_url_then_the_email_identify_the_application(
        client, greenhouse):
    connection, key = greenhouse
    profile = "https://app.greenhouse.io/people/17681532"
    body = fixture("send_test__full")
    body["candidate"]["greenhouse_profile_url"] = profile
    assert send(client, key, body).json() == send(client, key, body).json()
    no_profile = fixture("send_test__full")
    no_profile["candidate"]["greenhouse_profile_url"] = None
    assert send(client, key, no_profile).json() == send(client, key, no_profile).json()
    keys = [a.idempotency_key for a in assessments(connection)]
    assert len(keys) == 2
    assert keys[0].startswith("profile:") and keys[1] == f"email:hpotter@example.edu|test:{TEST}"


# --- send_test: refusals -------------------------------------------------------------------------

def refused(response, status_code: int, code: str, *words: str) -> dict:
    assert response.status_code == status_code, response.content
    body = response.json()
    assert body["status"] == status_code and body["error"] == code, body
    for word in words:
        assert word in body["message"], body
    return body


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", "", '"text"'])
def test_malformed_json_is_a_400(client, greenhouse, raw):
    connection, key = greenhouse
    refused(send(client, key, {}, raw=raw), 400, "malformed")
    assert invitations(connection) == []
    [event] = events(connection, "send_test")
    assert event.status == "failed" and event.outcome.startswith("refused (400)")


def test_missing_fields_are_a_422_naming_them(client, greenhouse):
    connection, key = greenhouse
    body = fixture("send_test__full")
    del body["url"]
    body["candidate"]["email"] = None
    refused(send(client, key, body), 422, "missing_field", "candidate.email", "url")
    body = fixture("send_test__full")
    del body["partner_test_id"]
    refused(send(client, key, body), 422, "missing_field", "partner_test_id")
    assert invitations(connection) == []


@pytest.mark.parametrize("change,words", [
    ({"candidate": "Harry Potter"}, ["candidate must be an object"]),
    ({"url": 12}, ["url must be a string"]),
    ({"sent_by": ["x"]}, ["sent_by must be a string"]),
    ({"partner_test_id": True}, ["partner_test_id must be a string"]),
])
def test_wrongly_typed_fields_are_a_422(client, greenhouse, change, words):
    connection, key = greenhouse
    refused(send(client, key, fixture("send_test__full", **change)), 422, "invalid_field", *words)
    assert invitations(connection) == []


def test_an_invalid_email_is_a_422(client, greenhouse):
    connection, key = greenhouse
    body = fixture("send_test__full")
    body["candidate"]["email"] = "not-an-email"
    refused(send(client, key, body), 422, "invalid_candidate", "not a valid address")
    assert invitations(connection) == []


def test_an_unknown_test_is_a_422_saying_where_the_ids_are(client, greenhouse):
    connection, key = greenhouse
    refused(send(client, key, fixture("send_test__full", partner_test_id="nope")), 422,
            "unknown_test", "'nope'", "list the tests")
    assert invitations(connection) == []
    [event] = events(connection, "send_test")
    assert event.status == "failed"


def test_a_numeric_test_id_is_read_as_its_text(client, greenhouse):
    connection, key = greenhouse
    refused(send(client, key, fixture("send_test__full", partner_test_id=12345)), 422,
            "unknown_test", "'12345'")


@pytest.mark.parametrize("url,words", [
    ("https://evil.example/take_home_tests/1", ["not one of greenhouse.io"]),
    ("http://app.greenhouse.io/x", ["must use https"]),
    ("https://app.greenhouse.io.evil.example/x", ["not one of greenhouse.io"]),
    ("ftp://app.greenhouse.io/x", ["not an absolute http(s) URL"]),
])
def test_a_production_connection_refuses_callback_urls_off_greenhouse(client, greenhouse, url,
                                                                       words):
    connection, key = greenhouse
    refused(send(client, key, fixture("send_test__full", url=url)), 422, "invalid_url", *words)
    assert invitations(connection) == []
    [event] = events(connection, "send_test")
    assert event.status == "failed" and "refused (422)" in event.outcome


def test_an_oversize_body_is_a_413(client, greenhouse):
    connection, key = greenhouse
    body = fixture("send_test__full", padding="x" * (MAX_BODY_BYTES + 1))
    refused(send(client, key, body), 413, "too_large")
    assert invitations(connection) == []


def test_send_test_is_a_post(client, greenhouse):
    _, key = greenhouse
    assert call(client, key, "GET", "send_test").status_code == 405


# --- packages ------------------------------------------------------------------------------------

def test_a_package_starts_one_invitation_with_all_its_tests(client, greenhouse):
    connection, key = greenhouse
    catalog_test(SECOND_TEST)
    with tenant_context(connection.org):
        Package.objects.create(org=connection.org, name="Graduate pack", slug="grad",
                                   tests=[SECOND_TEST, TEST])
    response = send(client, key, fixture("send_test__full", partner_test_id="package:grad"))
    assert response.status_code == 200, response.content
    [invitation] = invitations(connection)
    with tenant_context(connection.org):
        slugs = [t.catalog_test.slug for t in invitation.tests.order_by("position")]
    assert slugs == [SECOND_TEST, TEST]
    [assessment] = assessments(connection)
    assert (assessment.offering_id, assessment.offering_name) == ("package:grad", "Graduate pack")


# --- test_status ---------------------------------------------------------------------------------

def started(client, connection, key) -> tuple[str, Invitation]:
    interview = send(client, key, fixture("send_test__full")).json()["partner_interview_id"]
    return interview, invitations(connection)[0]


@pytest.mark.parametrize("ours,theirs", [
    ("created", "invited"), ("sent", "invited"), ("delivery_failed", "email_failed"),
    ("opened", "opened"), ("started", "in_progress"), ("expired", "expired"),
    ("cancelled", "cancelled"),
])
def test_status_while_not_complete_has_every_key_and_nulls(client, greenhouse, ours, theirs):
    connection, key = greenhouse
    interview, invitation = started(client, connection, key)
    with tenant_context(connection.org):
        Invitation.objects.filter(pk=invitation.pk).update(status=ours)
    response = status(client, key, interview)
    assert response.status_code == 200
    assert response.json() == {"partner_status": theirs, "partner_profile_url": None,
                               "partner_score": None, "metadata": None}


def test_status_when_complete_has_the_profile_url_the_score_and_flat_metadata(
        client, greenhouse, settings):
    connection, key = greenhouse
    interview, invitation = started(client, connection, key)
    complete_invitation(invitation)
    with tenant_context(connection.org):
        invitation.refresh_from_db()
        envelope = invitation.results.get().envelope
    body = status(client, key, interview).json()
    assert set(body) == {"partner_status", "partner_profile_url", "partner_score", "metadata"}
    assert body["partner_status"] == "complete"
    assert body["partner_profile_url"] == f"{settings.SITE_URL}/r/{invitation.public_id}"
    overall = (envelope["overall"] or {}).get("score")  # null: no primary dimension
    assert body["partner_score"] == (overall if overall is not None else next(
        d["score"] for d in envelope["dimensions"] if d["score"] is not None))
    metadata = body["metadata"]
    assert all(not isinstance(v, dict | list) for v in metadata.values())
    for dim in envelope["dimensions"]:
        assert metadata[dim["name"]] == dim["score"]
        assert isinstance(metadata[dim["name"]], int)
    assert metadata["Completed At"] == invitation.completed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert metadata["Started At"].endswith("Z")
    assert metadata["Verdict"] is None
    assert isinstance(metadata["Quality Flags"], str)
    assert isinstance(metadata["Time Taken (minutes)"], float)

    with tenant_context(connection.org):
        give_verdict(invitation, "up")
    assert status(client, key, interview).json()["metadata"]["Verdict"] == "Thumbs up"


def test_status_of_a_package_labels_dimensions_with_their_test(client, greenhouse):
    connection, key = greenhouse
    catalog_test(SECOND_TEST)
    with tenant_context(connection.org):
        Package.objects.create(org=connection.org, name="Pack", slug="pack",
                                   tests=[TEST, SECOND_TEST])
    interview = send(client, key, fixture("send_test__full", partner_test_id="package:pack")
                     ).json()["partner_interview_id"]
    [invitation] = invitations(connection)
    complete_invitation(invitation)
    with tenant_context(connection.org):
        envelopes = [r.envelope for r in invitation.results.all()]
    metadata = status(client, key, interview).json()["metadata"]
    for envelope in envelopes:
        for dim in envelope["dimensions"]:
            assert metadata[f"{envelope['test']['name']}: {dim['name']}"] == dim["score"]


def test_status_refusals(client, greenhouse, org_b):
    connection, key = greenhouse
    interview, _ = started(client, connection, key)
    other, other_key = connect(org_b)
    refused(call(client, key, "GET", "test_status"), 400, "missing_parameter",
            "partner_interview_id")
    refused(status(client, key, "98765"), 404, "not_found", "'98765'")
    refused(status(client, key, "00000000-0000-0000-0000-000000000000"), 404, "not_found")
    # Another org's key does not see this org's test.
    refused(status(client, other_key, interview), 404, "not_found")
    assert call(client, key, "POST", "test_status", {},
                query=urlencode({"partner_interview_id": interview})).status_code == 405
    assert other.pk != connection.pk


# --- response_error ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["response_error__example", "response_error__minimal"])
def test_response_error_is_recorded_for_the_admin(client, greenhouse, name):
    connection, key = greenhouse
    body = fixture(name)
    response = call(client, key, "POST", "response_error", body)
    assert response.status_code == 200 and response.json() == {"status": 200}
    [event] = events(connection, "response_error")
    assert event.status == "failed" and json.loads(event.body) == body
    with tenant_context(connection.org):
        connection.refresh_from_db()
    assert connection.last_error == event.outcome and connection.last_error_at
    assert body["api_call"] in event.outcome and body["errors"][0] in event.outcome
    if name == "response_error__example":
        assert "partner_interview_id 98765" in event.outcome
        assert "hpotter" not in event.outcome  # the email stays in the stored body only


def test_response_error_takes_odd_shapes_but_not_broken_json(client, greenhouse):
    connection, key = greenhouse
    assert call(client, key, "POST", "response_error",
                {"errors": "one string", "api_call": None}).status_code == 200
    assert "one string" in events(connection, "response_error")[0].outcome
    refused(call(client, key, "POST", "response_error", raw="{broken"), 400, "malformed")
    assert call(client, key, "GET", "response_error").status_code == 405


# --- concurrency ---------------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sends_of_the_same_test_make_one_invitation(org_a):
    """Greenhouse retrying while the first call is still running: one row, the same id twice."""
    import threading

    from django.db import connection as db
    from django.test import Client

    connection, key = connect(org_a)
    barrier, answers = threading.Barrier(4), []

    def post():
        try:
            barrier.wait(10)
            answers.append(send(Client(), key, fixture("send_test__full")))
        finally:
            db.close()

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [r.status_code for r in answers] == [200] * 4, [r.content for r in answers]
    assert len({r.json()["partner_interview_id"] for r in answers}) == 1
    assert len(invitations(connection)) == 1 and len(assessments(connection)) == 1
