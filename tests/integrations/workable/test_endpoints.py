"""Our provider endpoints as Workable calls them: auth, `GET tests`, `POST assessments` (every
recorded body, every refusal in Workable's `{"status", "message"}` shape), idempotency on
`callback_url`, packages, production callback hosts and the optional shared link."""

from __future__ import annotations

import json
import threading
import uuid
from base64 import b64encode
from datetime import timedelta

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone

from assessments import models as assessment_models
from assessments.invitations import cancel_invitation
from assessments.models import Invitation
from integrations import partner_keys
from integrations.models import Connection, ExternalAssessment, InboundEvent, PartnerKey
from tenants.context import tenant_context
from tests.integrations.workable.conftest import (
    BASE,
    TEST,
    bearer,
    connect,
    fixture,
    get,
    post,
)
from tests.rls_rows import catalog_test

pytestmark = pytest.mark.django_db

OTHER = "self-efficacy-ipip"
Package = assessment_models.TestPackage  # (a name pytest does not try to collect)


def invitations(connection) -> list[Invitation]:
    with tenant_context(connection.org_id):
        return list(Invitation.objects.filter(
            source_ref__connection_id=str(connection.public_id)).order_by("pk"))


def assert_error(response, status: int, *words: str) -> str:
    assert response.status_code == status, (response.status_code, response.content)
    body = response.json()
    assert body["status"] == status and set(body) == {"status", "message"}, body
    assert isinstance(body["message"], str) and body["message"]
    for word in words:
        assert word in body["message"], body["message"]
    return body["message"]


# --- auth -------------------------------------------------------------------------------------

def test_the_partner_key_is_accepted_as_a_bearer_token_in_any_case(client, workable):
    connection, key = workable
    for header in (f"Bearer {key}", f"bearer {key}", f"BEARER   {key}  "):
        response = client.get(f"{BASE}/tests", HTTP_AUTHORIZATION=header)
        assert response.status_code == 200, (header, response.content)


def test_refused_credentials_get_401_in_workables_shape(client, workable, org_b):
    connection, key = workable
    other_workable, other_key = connect(org_b)
    with tenant_context(org_b):
        greenhouse = Connection.objects.create(org=org_b, provider="greenhouse",
                                               status="active", is_sandbox=True)
        greenhouse_key = partner_keys.issue(greenhouse)
    refused = {
        "no header": None,
        "empty bearer": "Bearer ",
        "basic with the key": "Basic " + b64encode(f"{key}:".encode()).decode(),
        "another scheme": f"Token {key}",
        "a wrong key": "Bearer assay_pk_not-a-key",
        "another provider's key": f"Bearer {greenhouse_key}",
        "the Workable token (the other direction)": "Bearer wk-issued-access-token",
        "an oversized key": "Bearer " + "k" * 500,
    }
    for name, header in refused.items():
        extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
        response = client.get(f"{BASE}/tests", **extra)
        assert_error(response, 401)
        response = client.post(f"{BASE}/assessments", data=json.dumps(fixture("assessments__full")),
                               content_type="application/json", **extra)
        assert response.status_code == 401, name
        assert_error(response, 401)
    assert invitations(connection) == [] and invitations(other_workable) == []
    assert get(client, other_key).status_code == 200  # another org's key works for that org


def test_expired_revoked_and_disconnected_keys_are_refused(client, org_a, catalog):
    connection, key = connect(org_a)
    assert get(client, key).status_code == 200
    with tenant_context(org_a):
        newer = partner_keys.issue(connection, overlap=timedelta(days=7))
    assert get(client, key).status_code == 200  # the overlap window
    assert get(client, newer).status_code == 200
    with tenant_context(org_a):
        PartnerKey.objects.filter(connection=connection).exclude(
            key_hash=partner_keys.hash_key(newer)).update(
            expires_at=timezone.now() - timedelta(seconds=1))
    assert_error(get(client, key), 401)
    assert get(client, newer).status_code == 200
    with tenant_context(org_a):
        partner_keys.revoke(PartnerKey.objects.get(key_hash=partner_keys.hash_key(newer)))
    assert_error(get(client, newer), 401)
    with tenant_context(org_a):
        fresh = partner_keys.issue(connection, overlap=None)
    assert get(client, fresh).status_code == 200
    with tenant_context(org_a):
        Connection.objects.filter(pk=connection.pk).update(status="disconnected")
    assert_error(get(client, fresh), 401)


# --- GET tests ----------------------------------------------------------------------------------

def test_tests_lists_catalog_tests_and_packages_with_string_ids(client, workable, org_a):
    connection, key = workable
    catalog_test(OTHER)
    with tenant_context(org_a):
        Package.objects.create(org=org_a, name="Engineering", slug="engineering",
                                   tests=[TEST, OTHER])
        Package.objects.create(org=org_a, name="Retired", slug="off", tests=[TEST],
                                   is_active=False)
    response = get(client, key)
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    tests = response.json()["tests"]
    assert tests[0] == {"id": "package:engineering", "name": "Engineering"}
    ids = [t["id"] for t in tests]
    assert TEST in ids and OTHER in ids and "package:off" not in ids
    assert all(isinstance(t["id"], str) and t["name"] for t in tests)
    assert all(set(t) == {"id", "name"} for t in tests)
    with tenant_context(org_a):
        connection.refresh_from_db()
    assert connection.last_inbound_at is not None


def test_wrong_methods_are_405(client, workable):
    _, key = workable
    assert_error(client.post(f"{BASE}/tests", **bearer(key)), 405)
    assert_error(client.get(f"{BASE}/assessments", **bearer(key)), 405)
    assert client.get(f"{BASE}/assessments", **bearer(key))["Allow"] == "POST"


# --- POST assessments: the recorded bodies ------------------------------------------------------

def test_the_full_recorded_body_creates_one_invitation(client, workable):
    connection, key = workable
    body = fixture("assessments__full")
    response = post(client, key, body)
    assert response.status_code == 201, response.content
    assessment_id = response.json()["assessment_id"]
    assert set(response.json()) == {"assessment_id"} and uuid.UUID(assessment_id)
    [invitation] = invitations(connection)
    with tenant_context(connection.org_id):
        assessment = ExternalAssessment.objects.get()
        tests = list(invitation.tests.values_list("catalog_test__slug", flat=True))
        candidate = invitation.candidate
        event = InboundEvent.objects.get(connection=connection)
    assert str(assessment.public_id) == assessment_id and assessment.invitation_id == invitation.pk
    assert assessment.idempotency_key == body["callback_url"]
    assert (assessment.offering_id, assessment.state["callback_url"]) == (
        TEST, body["callback_url"])
    assert tests == [TEST] and invitation.source == "workable" and invitation.sandbox
    assert (candidate.email, candidate.first_name, candidate.last_name) == (
        "lakita@example.com", "Lakita", "Marrero")
    assert invitation.source_ref["callback_url"] == body["callback_url"]
    assert invitation.source_ref["job_shortcode"] == "GROOV005"
    assert invitation.source_ref["assessment_id"] == assessment_id
    assert event.event_type == "assessments" and event.status == "processed"


def test_the_body_without_optional_fields_is_accepted(client, workable):
    connection, key = workable
    response = post(client, key, fixture("assessments__no_optional"))
    assert response.status_code == 201, response.content
    [invitation] = invitations(connection)
    with tenant_context(connection.org_id):
        assert invitation.candidate.email == "sam@example.com"
        assert invitation.candidate.first_name == ""


def test_a_package_starts_an_invitation_with_all_its_tests(client, workable, org_a):
    connection, key = workable
    catalog_test(OTHER)
    with tenant_context(org_a):
        Package.objects.create(org=org_a, name="Engineering", slug="engineering",
                                   tests=[OTHER, TEST])
    response = post(client, key, fixture("assessments__package"))
    assert response.status_code == 201, response.content
    [invitation] = invitations(connection)
    with tenant_context(org_a):
        tests = list(invitation.tests.order_by("position")
                     .values_list("catalog_test__slug", flat=True))
        assert ExternalAssessment.objects.get().offering_name == "Engineering"
    assert tests == [OTHER, TEST]


def test_an_integer_test_id_is_read_as_an_id(client, workable):
    connection, key = workable
    body = {**fixture("assessments__full"), "test_id": 2}
    assert_error(post(client, key, body), 422, "unknown test '2'")
    assert invitations(connection) == []


# --- POST assessments: refusals -----------------------------------------------------------------

@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", "", '"text"', b"\xff\xfe"])
def test_malformed_json_is_400(client, workable, raw):
    connection, key = workable
    assert_error(post(client, key, raw), 400)
    assert invitations(connection) == []


@pytest.mark.parametrize(("change", "field"), [
    ({"test_id": None}, "test_id"),
    ({"test_id": " "}, "test_id"),
    ({"callback_url": ""}, "callback_url"),
    ({"candidate": None}, "candidate"),
    ({"candidate": {"first_name": "Lakita"}}, "candidate.email"),
])
def test_a_missing_required_field_is_422_naming_it(client, workable, change, field):
    connection, key = workable
    body = {k: v for k, v in {**fixture("assessments__full"), **change}.items() if v is not None}
    message = assert_error(post(client, key, body), 422, "missing required field")
    assert message.endswith(field), message
    assert invitations(connection) == []


@pytest.mark.parametrize(("change", "words"), [
    ({"test_id": True}, "test_id"),
    ({"test_id": 2.5}, "test_id"),
    ({"test_id": {"id": 2}}, "test_id"),
    ({"callback_url": 42}, "callback_url"),
    ({"callback_url": "acme.workable.com/assessments/1"}, "not an absolute"),
    ({"callback_url": "https://acme.workable.com/" + "x" * 300}, "longer than"),
    ({"candidate": "lakita@example.com"}, "candidate must be an object"),
    ({"candidate": {"email": "not-an-email"}}, "not a valid email"),
    ({"candidate": {"email": ["a@example.com"]}}, "candidate.email"),
    ({"candidate": {"email": "a@example.com", "first_name": {"x": 1}}}, "first_name"),
    ({"job_title": ["x"]}, "job_title"),
])
def test_an_invalid_field_is_400(client, workable, change, words):
    connection, key = workable
    assert_error(post(client, key, {**fixture("assessments__full"), **change}), 400, words)
    assert invitations(connection) == []
    with tenant_context(connection.org_id):
        assert InboundEvent.objects.get().status == "failed"  # the admin sees the refusal


def test_an_unknown_test_is_422(client, workable):
    connection, key = workable
    body = {**fixture("assessments__full"), "test_id": "no-such-test"}
    assert_error(post(client, key, body), 422, "unknown test")
    assert invitations(connection) == []


def test_an_oversize_body_is_413(client, workable):
    connection, key = workable
    body = {**fixture("assessments__full"), "padding": "x" * (300 * 1024)}
    assert_error(post(client, key, body), 413)
    assert invitations(connection) == []


# --- idempotency on callback_url ----------------------------------------------------------------

def test_the_same_callback_url_twice_is_one_assessment(client, workable):
    connection, key = workable
    body = fixture("assessments__full")
    first, second = post(client, key, body), post(client, key, body)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json() == second.json()
    assert len(invitations(connection)) == 1
    # Workable may send the test id as a number-looking string or with other optional fields.
    third = post(client, key, {**body, "job_title": "Renamed", "candidate": {
        **body["candidate"], "email": "LAKITA@example.com"}})
    assert third.status_code == 200 and third.json() == first.json()


def test_another_callback_url_is_another_assessment(client, workable):
    connection, key = workable
    body = fixture("assessments__full")
    first = post(client, key, body)
    second = post(client, key, {**body, "callback_url": body["callback_url"] + "0"})
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() != second.json() and len(invitations(connection)) == 2


@pytest.mark.parametrize("change", [{"test_id": OTHER},
                                    {"candidate": {"email": "someone.else@example.com"}}])
def test_the_same_callback_url_with_another_test_or_candidate_is_409(client, workable, change):
    connection, key = workable
    catalog_test(OTHER)
    body = fixture("assessments__full")
    assert post(client, key, body).status_code == 201
    assert_error(post(client, key, {**body, **change}), 409, "callback_url")
    assert len(invitations(connection)) == 1


@pytest.mark.parametrize("end", ["expired", "cancelled"])
def test_the_callback_url_of_a_finished_assessment_is_409(client, workable, end):
    connection, key = workable
    body = fixture("assessments__full")
    assert post(client, key, body).status_code == 201
    [invitation] = invitations(connection)
    with tenant_context(connection.org_id):
        if end == "cancelled":
            cancel_invitation(invitation)
        else:
            Invitation.objects.filter(pk=invitation.pk).update(status="expired")
    assert_error(post(client, key, body), 409, f"already {end}")
    assert len(invitations(connection)) == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_starts_make_one_assessment(org_a):
    catalog_test(TEST)
    connection, key = connect(org_a)
    body = json.dumps(fixture("assessments__full"))
    barrier, answers = threading.Barrier(2), []

    def start():
        try:
            barrier.wait(5)
            answers.append(Client().post(f"{BASE}/assessments", data=body,
                                         content_type="application/json", **bearer(key)))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(a.status_code for a in answers) == [200, 201], [a.content for a in answers]
    assert answers[0].json() == answers[1].json()
    assert len(invitations(connection)) == 1


# --- production connections: only Workable's hosts ----------------------------------------------

@pytest.mark.parametrize(("url", "status"), [
    ("https://acme.workable.com/assessments/1", 201),
    ("https://workable.com/assessments/1", 201),
    ("http://acme.workable.com/assessments/1", 400),
    ("https://workable.com.evil.test/assessments/1", 400),
    ("https://127.0.0.1/assessments/1", 400),
])
def test_a_production_connection_calls_back_only_on_workable_hosts(client, org_a, catalog, url,
                                                                    status):
    connection, key = connect(org_a, sandbox=False)
    response = post(client, key, {**fixture("assessments__full"), "callback_url": url})
    assert response.status_code == status, response.content
    if status == 201:
        [invitation] = invitations(connection)
        assert not invitation.sandbox
    else:
        assert_error(response, 400, "callback")


def test_a_sandbox_connection_accepts_any_http_callback(client, workable):
    connection, key = workable
    body = {**fixture("assessments__full"), "callback_url": "http://127.0.0.1:9/assessments/1"}
    assert post(client, key, body).status_code == 201


# --- the optional shared link -------------------------------------------------------------------

def test_the_shared_link_is_the_report_url(client, workable, org_b, catalog, settings):
    connection, key = workable
    assessment_id = post(client, key, fixture("assessments__full")).json()["assessment_id"]
    response = get(client, key, f"/assessments/{assessment_id}/shared-link")
    assert response.status_code == 200, response.content
    [invitation] = invitations(connection)
    assert response.json() == {"url": f"{settings.SITE_URL}/r/{invitation.public_id}",
                               "ttl": "120", "ttl_units": "minutes"}
    assert_error(get(client, key, f"/assessments/{uuid.uuid4()}/shared-link"), 404)
    assert_error(get(client, key, "/assessments/not-a-uuid/shared-link"), 404)
    _, other_key = connect(org_b)
    assert_error(get(client, other_key, f"/assessments/{assessment_id}/shared-link"), 404)
