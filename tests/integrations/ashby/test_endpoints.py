"""Ashby's calls to us: assessment.list, .start, .cancel (and customField.list), end to end
through Django: auth in either Basic field, every recorded fixture, bad input, idempotency, 409,
packages, cancellation. The fake Ashby drives the same endpoints over HTTP in the e2e test."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection as db_connection
from django.test import Client
from django.utils import timezone

from assessments.models import Invitation
from assessments.models import TestPackage as Package
from integrations import partner_keys, registry
from integrations.models import Delivery, ExternalAssessment, InboundEvent, PartnerKey
from tenants.context import tenant_context
from tests.integrations.ashby.conftest import TEST, basic, call, connect, fixture, fixture_json
from tests.integrations.contract import complete_invitation
from tests.rls_rows import catalog_test

pytestmark = pytest.mark.django_db

OTHER_TEST = "self-efficacy-ipip"
START_FIXTURES = ("assessment_start__full", "assessment_start__no_optional",
                  "assessment_start__lead_additional_fields")


def invitations(ashby) -> list[Invitation]:
    with tenant_context(ashby.connection.org):
        return list(Invitation.objects.select_related("candidate").order_by("pk"))


def start_body(**changes) -> dict:
    body = fixture_json("assessment_start__full")
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(body.get(key), dict):
            body[key] = {**body[key], **value}
        elif value is None:
            body.pop(key, None)
        else:
            body[key] = value
    return body


def assert_refused(response, status: int, *words: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["success"] is False and body["errors"] and body["message"] == body["errors"][0]
    for word in words:
        assert word in body["message"], body["message"]
    return body


# --- auth ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("field", ["username", "password"])
def test_the_key_is_accepted_in_either_basic_field(client, ashby, field):
    response = call(client, "assessment.list", {}, ashby.key, field=field)
    assert response.status_code == 200, response.content
    assert response.json()["success"] is True


def test_the_key_in_the_password_beside_any_username_is_accepted(client, ashby):
    response = client.post("/integrations/ashby/assessment.list", data="{}",
                           content_type="application/json", **basic("ashby", ashby.key))
    assert response.status_code == 200


@pytest.mark.parametrize("auth", [
    {},
    {"HTTP_AUTHORIZATION": "Basic"},
    {"HTTP_AUTHORIZATION": "Basic !!!not-base64"},
    {"HTTP_AUTHORIZATION": "Bearer KEY"},
    {"HTTP_AUTHORIZATION": "KEY"},
    {"WRONG": ""},
], ids=["missing", "empty basic", "bad base64", "bearer", "bare key", "wrong key"])
def test_other_forms_and_wrong_keys_are_refused_with_401(client, ashby, auth):
    auth = {k: v.replace("KEY", ashby.key) for k, v in auth.items()}
    if "WRONG" in auth:
        auth = basic("assay_pk_not-a-key-we-issued")
    before = len(invitations(ashby))
    response = client.post("/integrations/ashby/assessment.start",
                           data=fixture("assessment_start__full"),
                           content_type="application/json", **auth)
    assert_refused(response, 401, "key")
    assert response["WWW-Authenticate"].startswith("Basic")
    assert len(invitations(ashby)) == before == 0


def test_revoked_expired_and_rotated_keys(client, ashby):
    connection = ashby.connection
    with tenant_context(connection.org):
        newer = partner_keys.issue(connection)  # the first key keeps working for 7 days
        assert call(client, "assessment.list", {}, ashby.key).status_code == 200
        assert call(client, "assessment.list", {}, newer).status_code == 200
        PartnerKey.objects.filter(connection=connection, expires_at__isnull=False).update(
            expires_at=timezone.now() - timedelta(seconds=1))
        assert call(client, "assessment.list", {}, ashby.key).status_code == 401
        partner_keys.revoke(PartnerKey.objects.get(expires_at__isnull=True))
    assert call(client, "assessment.list", {}, newer).status_code == 401


def test_a_disconnected_connection_is_refused(client, ashby):
    with tenant_context(ashby.connection.org):
        ashby.connection.status = "disconnected"
        ashby.connection.save(update_fields=["status"])
    assert call(client, "assessment.list", {}, ashby.key).status_code == 401


def test_only_post_is_allowed(client, ashby):
    response = client.get("/integrations/ashby/assessment.list", **basic(ashby.key))
    assert_refused(response, 405, "POST")
    assert response["Allow"] == "POST"


# --- assessment.list ----------------------------------------------------------------------------

def test_list_offers_catalog_tests_and_packages(client, ashby, org_a):
    catalog_test(OTHER_TEST)
    with tenant_context(org_a):
        Package.objects.create(org=org_a, name="Engineering pack", slug="eng",
                                   tests=[TEST, OTHER_TEST])
    response = call(client, "assessment.list", fixture("assessment_list"), ashby.key)
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    by_id = {r["assessment_type_id"]: r for r in body["results"]}
    assert set(by_id) == {"package:eng", TEST, OTHER_TEST}
    assert by_id["package:eng"]["name"] == "Engineering pack"
    assert all(isinstance(r["name"], str) and r["name"] and isinstance(r["description"], str)
               for r in body["results"])
    assert "minutes" in by_id[TEST]["description"]


def test_list_takes_an_empty_body_but_not_malformed_json(client, ashby):
    assert call(client, "assessment.list", b"", ashby.key).status_code == 200
    assert_refused(call(client, "assessment.list", b"{nope", ashby.key), 400, "JSON")


def test_custom_fields_are_an_empty_list(client, ashby):
    response = call(client, "assessment.customField.list", {}, ashby.key)
    assert response.status_code == 200
    assert response.json() == {"success": True, "fields": []}


def test_a_trailing_slash_is_accepted(client, ashby):
    response = client.post("/integrations/ashby/assessment.list/", data="{}",
                           content_type="application/json", **basic(ashby.key))
    assert response.status_code == 200


# --- assessment.start ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", START_FIXTURES)
def test_each_recorded_start_creates_one_invitation(client, ashby, name):
    body = fixture_json(name)
    response = call(client, "assessment.start", fixture(name), ashby.key)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["success"] is True
    aid = answer["results"]["assessment_id"]
    uuid.UUID(aid)
    update = answer["results"]["update_request"]
    assert update["assessment_id"] == aid
    assert isinstance(update["timestamp"], int) and update["timestamp"] > 10**12
    assert update["assessment_status"] == {"identifier": "status", "label": "Status",
                                           "type": "string", "value": "Invited"}
    [invitation] = invitations(ashby)
    assert invitation.source == "ashby" and invitation.sandbox
    assert invitation.candidate.email == body["candidate"]["email"].lower()
    assert invitation.candidate.first_name == body["candidate"]["first_name"]
    assert invitation.source_ref["assessment_id"] == aid
    assert invitation.source_ref["ashby_application_id"] == body["application"]["ashby_id"]
    with tenant_context(ashby.connection.org):
        assert [t.catalog_test.slug for t in invitation.tests.all()] == [TEST]
        assessment = ExternalAssessment.objects.get(public_id=aid)
        assert InboundEvent.objects.get().event_type == "assessment.start"
    assert assessment.state["last_ts"] == assessment.state["invited_ts"] == update["timestamp"]
    assert assessment.offering_id == TEST


def test_the_invitation_email_is_queued_once(client, ashby, django_capture_on_commit_callbacks):
    from unittest import mock

    with mock.patch("assessments.tasks.send_invitation_email.apply_async") as send, \
            django_capture_on_commit_callbacks(execute=True):
        call(client, "assessment.start", fixture("assessment_start__full"), ashby.key)
        call(client, "assessment.start", fixture("assessment_start__full"), ashby.key)
    assert send.call_count == 1


def test_the_same_start_again_returns_the_same_assessment(client, ashby):
    first = call(client, "assessment.start", fixture("assessment_start__full"), ashby.key)
    again = call(client, "assessment.start", fixture("assessment_start__full"), ashby.key)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()  # the same id and the same "Invited" update
    assert len(invitations(ashby)) == 1


def test_a_repeated_start_after_progress_leaves_the_invited_update_out(client, ashby):
    first = call(client, "assessment.start", fixture("assessment_start__full"), ashby.key).json()
    [invitation] = invitations(ashby)
    complete_invitation(invitation)
    again = call(client, "assessment.start", fixture("assessment_start__full"), ashby.key).json()
    assert again["results"] == {"assessment_id": first["results"]["assessment_id"]}


def test_without_an_application_id_the_email_keys_the_start(client, ashby):
    body = start_body(application=None)
    first = call(client, "assessment.start", body, ashby.key).json()
    body["candidate"]["email"] = body["candidate"]["email"].upper()
    again = call(client, "assessment.start", body, ashby.key).json()
    assert first["results"]["assessment_id"] == again["results"]["assessment_id"]
    assert len(invitations(ashby)) == 1


def test_the_same_candidate_under_another_application_is_a_409(client, ashby):
    assert call(client, "assessment.start", start_body(), ashby.key).status_code == 200
    other_application = start_body(application={"ashby_id": "a-other"})
    assert_refused(call(client, "assessment.start", other_application, ashby.key), 409,
                   "already being assessed")
    # The same person for another test is fine.
    catalog_test(OTHER_TEST)
    other_test = start_body(application={"ashby_id": "a-other"}, assessment_type_id=OTHER_TEST)
    assert call(client, "assessment.start", other_test, ashby.key).status_code == 200
    assert len(invitations(ashby)) == 2


def test_the_candidate_falls_back_to_the_email_for_409(client, ashby):
    body = start_body()
    body["candidate"].pop("ashby_id")
    assert call(client, "assessment.start", body, ashby.key).status_code == 200
    body["application"]["ashby_id"] = "a-other"
    assert call(client, "assessment.start", body, ashby.key).status_code == 409


def test_after_a_cancel_the_candidate_can_be_assessed_again(client, ashby):
    first = call(client, "assessment.start", start_body(), ashby.key).json()
    call(client, "assessment.cancel", {"assessment_id": first["results"]["assessment_id"]},
         ashby.key)
    again = call(client, "assessment.start", start_body(), ashby.key)
    assert again.status_code == 200
    assert again.json()["results"]["assessment_id"] != first["results"]["assessment_id"]
    assert [i.status for i in invitations(ashby)] == ["cancelled", "created"]


@pytest.mark.parametrize("status", ["Hired", "Archived", "Rejected"])
def test_an_application_that_is_not_active_or_lead_is_refused(client, ashby, status):
    body = start_body(application={"status": status})
    assert_refused(call(client, "assessment.start", body, ashby.key), 422, status,
                   "Active or Lead")
    assert invitations(ashby) == []
    with tenant_context(ashby.connection.org):
        assert InboundEvent.objects.get().status == "failed"


def test_the_hired_fixture_is_refused(client, ashby):
    response = call(client, "assessment.start", fixture("assessment_start__hired"), ashby.key)
    assert_refused(response, 422, "Hired")


@pytest.mark.parametrize(("body", "words"), [
    ({}, ["assessment_type_id is required", "candidate is required"]),
    ({"assessment_type_id": TEST, "candidate": {}}, ["candidate.email is required"]),
    ({"assessment_type_id": TEST, "candidate": "ada@example.com"},
     ["candidate must be an object"]),
    ({"assessment_type_id": TEST, "candidate": {"email": "a@example.com"}, "application": []},
     ["application must be an object"]),
    ({"assessment_type_id": 7, "candidate": {"email": None}},
     ["candidate.email is required"]),
], ids=["empty", "no email", "candidate not an object", "application not an object",
        "wrong types"])
def test_missing_or_malformed_fields_are_named_in_a_422(client, ashby, body, words):
    assert_refused(call(client, "assessment.start", body, ashby.key), 422, *words)
    assert invitations(ashby) == []


def test_an_unknown_assessment_type_is_a_422(client, ashby):
    body = start_body(assessment_type_id="no-such-test")
    assert_refused(call(client, "assessment.start", body, ashby.key), 422, "no-such-test")
    assert invitations(ashby) == []


def test_a_bad_email_is_a_422(client, ashby):
    body = start_body(candidate={"email": "not-an-address"})
    assert_refused(call(client, "assessment.start", body, ashby.key), 422, "not-an-address")


@pytest.mark.parametrize("raw", [b"{nope", b"[1, 2]", b"", b"\xff\xfe"])
def test_malformed_bodies_are_a_400(client, ashby, raw):
    assert_refused(call(client, "assessment.start", raw, ashby.key), 400)


def test_an_oversize_body_is_a_413(client, ashby):
    body = start_body(padding="x" * (300 * 1024))
    assert_refused(call(client, "assessment.start", body, ashby.key), 413)
    assert invitations(ashby) == []


def test_a_package_starts_one_invitation_with_all_its_tests(client, ashby, org_a):
    catalog_test(OTHER_TEST)
    with tenant_context(org_a):
        Package.objects.create(org=org_a, name="Pack", slug="pack", tests=[OTHER_TEST, TEST])
    response = call(client, "assessment.start", start_body(assessment_type_id="package:pack"),
                    ashby.key)
    assert response.status_code == 200, response.content
    [invitation] = invitations(ashby)
    with tenant_context(org_a):
        slugs = [t.catalog_test.slug for t in invitation.tests.order_by("position")]
        assert ExternalAssessment.objects.get().offering_name == "Pack"
    assert slugs == [OTHER_TEST, TEST]


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_starts_make_one_invitation(org_a):
    catalog_test(TEST)
    ashby = connect(org_a)
    answers, barrier = [], threading.Barrier(2)

    def start():
        try:
            barrier.wait(5)
            answers.append(call(Client(), "assessment.start", fixture("assessment_start__full"),
                                ashby.key))
        finally:
            db_connection.close()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [a.status_code for a in answers] == [200, 200], [a.content for a in answers]
    ids = {a.json()["results"]["assessment_id"] for a in answers}
    assert len(ids) == 1
    assert len(invitations(ashby)) == 1


# --- assessment.cancel --------------------------------------------------------------------------

def started(client, ashby, body=None) -> str:
    response = call(client, "assessment.start", body or start_body(), ashby.key)
    assert response.status_code == 200, response.content
    return response.json()["results"]["assessment_id"]


def updates(ashby) -> list[Delivery]:
    with tenant_context(ashby.connection.org):
        return list(Delivery.objects.filter(kind="ashby.update").order_by("pk"))


def test_cancel_cancels_our_invitation_and_owes_ashby_the_reason(client, ashby):
    aid = started(client, ashby)
    response = call(client, "assessment.cancel", fixture("assessment_cancel", assessment_id=aid),
                    ashby.key)
    assert response.status_code == 200, response.content
    assert response.json() == {"success": True, "results": {"assessment_id": aid}}
    [invitation] = invitations(ashby)
    assert invitation.status == "cancelled"
    [update] = updates(ashby)
    assert update.payload["event"] == "cancelled"
    assert update.payload["body"] == {
        "assessment_id": aid,
        "cancelled_reason": {"identifier": "cancelled_reason", "label": "Cancelled",
                             "type": "string", "value": "Cancelled in Ashby"}}


def test_cancel_again_or_after_completion_is_a_success_that_changes_nothing(client, ashby):
    aid = started(client, ashby)
    for _ in range(2):
        response = call(client, "assessment.cancel", {"assessment_id": aid}, ashby.key)
        assert response.status_code == 200 and response.json()["success"] is True
    assert len(updates(ashby)) == 1

    other = started(client, ashby, start_body(candidate={"ashby_id": "c-2",
                                                         "email": "grace@example.com"},
                                              application={"ashby_id": "a-2"}))
    complete_invitation(invitations(ashby)[-1])
    response = call(client, "assessment.cancel", {"assessment_id": other}, ashby.key)
    assert response.status_code == 200 and response.json()["success"] is True
    assert invitations(ashby)[-1].status == "completed"
    assert [u.payload["event"] for u in updates(ashby)] == ["cancelled", "started", "completed"]


@pytest.mark.parametrize("aid", [str(uuid.uuid4()), "not-a-uuid"])
def test_cancel_of_an_unknown_assessment_is_a_404(client, ashby, aid):
    assert_refused(call(client, "assessment.cancel", {"assessment_id": aid}, ashby.key), 404,
                   aid)


def test_cancel_of_another_connections_assessment_is_a_404(client, ashby, org_b):
    aid = started(client, ashby)
    other = connect(org_b)
    assert_refused(call(client, "assessment.cancel", {"assessment_id": aid}, other.key), 404)
    assert invitations(ashby)[0].status == "created"


def test_cancel_without_an_id_is_a_422(client, ashby):
    assert_refused(call(client, "assessment.cancel", {}, ashby.key), 422, "assessment_id")
    assert_refused(call(client, "assessment.cancel", b"{", ashby.key), 400)


# --- what the admin hands to Ashby ----------------------------------------------------------------

def test_the_endpoint_urls_start_with_the_base_url(ashby, settings):
    urls = registry.adapter(ashby.connection).endpoint_urls()
    base = f"{settings.SITE_URL}/integrations/ashby"
    assert urls[0] == ("Base URL (give this to Ashby)", base)
    assert [u for _, u in urls[1:4]] == [f"{base}/assessment.{m}"
                                          for m in ("list", "start", "cancel")]


def test_refusals_are_logged_with_a_stable_key(client, ashby, caplog):
    caplog.set_level("INFO")
    call(client, "assessment.start", start_body(application={"status": "Hired"}), ashby.key)
    call(client, "assessment.list", {}, "wrong")
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("integrations.ashby.assessment_start.refused") for m in messages)
    assert any(m.startswith("integrations.ashby.assessment_list.unauthorized") for m in messages)
    assert json.dumps(messages)  # plain strings
