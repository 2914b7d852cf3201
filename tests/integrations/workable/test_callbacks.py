"""What Workable is owed and how it gets it: `PUT <callback_url>` deliveries written with each
status change (pending, completed, expired; cancel → expired), sent with the Workable-issued
token through the real outbox, never regressing, and Workable's answers mapped as the brief says.
Workable is faked at the HTTP boundary with `responses`."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from assessments import models as assessment_models
from assessments.invitations import cancel_invitation, expire_due_invitations, give_verdict
from assessments.models import Invitation, Result
from integrations import outbox, summary
from integrations.errors import AuthError, NotFound, PermanentProviderError, RateLimited
from integrations.models import Connection, Delivery, ExternalAssessment
from integrations.providers.workable import payloads
from integrations.providers.workable.adapter import WorkableAdapter
from integrations.providers.workable.fake.rules import check_callback
from tenants.context import platform_context, tenant_context
from tests.integrations.contract import complete_invitation, response_with
from tests.integrations.workable.conftest import WORKABLE_TOKEN, connect, fixture, post
from tests.rls_rows import catalog_test

pytestmark = pytest.mark.django_db

TEST = "self-efficacy-ipip"  # a primary dimension: the envelope has an overall score
CALLBACK = "https://acme.workable.com/assessments/8823119"


@pytest.fixture
def workable(org_a):
    catalog_test(TEST)
    return connect(org_a)


def start(client, key, **changes) -> Invitation:
    body = {**fixture("assessments__full"), "test_id": TEST, **changes}
    response = post(client, key, body)
    assert response.status_code == 201, response.content
    return invitation_of(response.json()["assessment_id"])


def invitation_of(assessment_id: str) -> Invitation:
    with platform_context("test lookup"):
        return ExternalAssessment.objects.select_related("invitation").get(
            public_id=assessment_id).invitation


def deliveries(connection) -> list[Delivery]:
    with tenant_context(connection.org_id):
        return list(Delivery.objects.filter(connection=connection).order_by("pk"))


def by_status(connection) -> dict[str, Delivery]:
    return {d.payload["body"]["status"]: d for d in deliveries(connection)}


def attempt(delivery: Delivery) -> Delivery:
    with tenant_context(delivery.org_id):
        outbox.attempt(delivery.pk)
        delivery.refresh_from_db()
    return delivery


def assessment_state(invitation) -> dict:
    with tenant_context(invitation.org_id):
        return ExternalAssessment.objects.get(invitation=invitation).state


# --- what is owed -----------------------------------------------------------------------------

def test_a_new_assessment_owes_workable_pending(client, workable):
    connection, key = workable
    invitation = start(client, key)
    [delivery] = deliveries(connection)
    assessment_id = invitation.source_ref["assessment_id"]
    assert delivery.kind == "workable.callback" and delivery.status == "pending"
    assert delivery.key == f"workable:callback:{assessment_id}:pending"
    assert delivery.payload == {"assessment_id": assessment_id, "callback_url": CALLBACK,
                                "seq": 1, "body": {"status": "pending"}}


def test_completion_owes_the_results_and_nothing_in_between(client, workable):
    connection, key = workable
    invitation = start(client, key)
    complete_invitation(invitation)  # opened, started, completed
    assert [d.payload["body"]["status"] for d in deliveries(connection)] == [
        "pending", "completed"]
    completed = by_status(connection)["completed"]
    with tenant_context(connection.org_id):
        [envelope] = [r.envelope for r in Result.objects.filter(invitation=invitation)]
        invitation.refresh_from_db()
    body = completed.payload["body"]
    assert completed.payload["seq"] == 2
    assert body["status"] == "completed"
    # The whole invitation's report (a package has several envelopes, each with its own link).
    assert body["results_url"] == summary.report_url(invitation)
    assert body["results_url"].endswith(f"/r/{invitation.public_id}")
    assessment = body["assessment"]
    assert assessment["score"] == envelope["overall"]["score"] is not None
    assert assessment["details"] == {d["name"]: d["score"] for d in envelope["dimensions"]}
    assert assessment["summary"] == summary.summary_text([envelope])
    assert assessment["duration"] == payloads.clock(envelope["duration_seconds"])
    assert "grade" not in assessment  # no pass mark: decided in docs/workable.md
    assert check_callback(body, "pending") == ([], [])  # the fake Workable's rules


def test_a_connection_can_send_the_score_as_text(client, workable):
    connection, key = workable
    with tenant_context(connection.org_id):
        Connection.objects.filter(pk=connection.pk).update(config={"score_format": "string"})
    invitation = start(client, key)
    complete_invitation(invitation)
    score = by_status(connection)["completed"].payload["body"]["assessment"]["score"]
    assert isinstance(score, str) and score.isdigit()


def test_a_package_sends_one_result_with_every_tests_dimensions(client, workable, org_a):
    connection, key = workable
    catalog_test("big-five-mini-ipip-20")
    with tenant_context(org_a):
        assessment_models.TestPackage.objects.create(org=org_a, name="Both", slug="both",
                               tests=[TEST, "big-five-mini-ipip-20"])
    invitation = start(client, key, test_id="package:both")
    complete_invitation(invitation)
    body = by_status(connection)["completed"].payload["body"]
    with tenant_context(org_a):
        envelopes = summary.envelopes(invitation)
    assert len(envelopes) == 2
    assert body["assessment"]["details"] == {
        label: score for _, label, score in summary.dimension_scores(envelopes)}
    assert len(body["assessment"]["details"]) == 6
    assert body["assessment"]["score"] == envelopes[0]["overall"]["score"]
    assert body["assessment"]["duration"] == payloads.clock(
        sum(e["duration_seconds"] for e in envelopes))


def test_expiry_owes_expired(client, workable):
    connection, key = workable
    invitation = start(client, key)
    with tenant_context(connection.org_id):
        Invitation.objects.filter(pk=invitation.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1))
    assert expire_due_invitations(connection.org) == 1
    expired = by_status(connection)["expired"]
    assert expired.payload["body"] == {"status": "expired"} and expired.payload["seq"] == 2


def test_our_cancel_tells_workable_expired(client, workable):
    connection, key = workable
    invitation = start(client, key)
    cancel_invitation(invitation)
    assert [d.payload["body"] for d in deliveries(connection)] == [
        {"status": "pending"}, {"status": "expired"}]


def test_a_verdict_is_not_sent_to_workable(client, workable, org_a):
    connection, key = workable
    invitation = start(client, key)
    complete_invitation(invitation)
    with tenant_context(org_a):
        invitation.refresh_from_db()
        assert give_verdict(invitation, "up")
    assert len(deliveries(connection)) == 2


def test_the_brief_example_and_our_payloads_pass_the_fake_rules():
    assert check_callback(fixture("callback__completed"), "pending") == ([], [])
    for body in ({"status": "pending"}, {"status": "expired"}):
        assert check_callback(body, None) == ([], [])
    assert payloads.clock(0) == "00:00:00" and payloads.clock(3723) == "01:02:03"
    assert payloads.clock(100 * 3600 + 5) == "100:00:05"


# --- delivering -------------------------------------------------------------------------------

def test_the_pending_put_uses_the_workable_token_not_our_key(client, workable):
    connection, key = workable
    start(client, key)
    [delivery] = deliveries(connection)
    with responses.RequestsMock() as rsps:
        rsps.add(responses.PUT, CALLBACK, json={})
        attempt(delivery)
        [call] = rsps.calls
    assert delivery.status == "delivered", delivery.last_error
    request = call.request
    assert request.method == "PUT" and request.url == CALLBACK
    assert request.headers["Authorization"] == f"Bearer {WORKABLE_TOKEN}"
    assert key not in request.headers["Authorization"]
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"].startswith("Assay/")
    assert json.loads(request.body) == {"status": "pending"}
    state = assessment_state(invitation_of(delivery.payload["assessment_id"]))
    assert (state["callback_seq"], state["callback_status"]) == (1, "pending")


def test_the_completed_put_carries_the_results(client, workable):
    connection, key = workable
    invitation = start(client, key)
    complete_invitation(invitation)
    completed = by_status(connection)["completed"]
    with responses.RequestsMock() as rsps:
        rsps.add(responses.PUT, CALLBACK, status=204)
        attempt(completed)
        [call] = rsps.calls
    assert completed.status == "delivered"
    assert json.loads(call.request.body) == completed.payload["body"]
    assert assessment_state(invitation)["callback_status"] == "completed"


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_any_2xx_is_success(client, workable, status):
    connection, key = workable
    start(client, key)
    with responses.RequestsMock() as rsps:
        rsps.add(responses.PUT, CALLBACK, status=status, body="")
        assert attempt(deliveries(connection)[0]).status == "delivered"


def test_a_late_pending_after_completed_is_skipped(client, workable):
    connection, key = workable
    invitation = start(client, key)
    complete_invitation(invitation)
    owed = by_status(connection)
    with responses.RequestsMock() as rsps:
        rsps.add(responses.PUT, CALLBACK, json={})
        attempt(owed["completed"])
        attempt(owed["pending"])  # e.g. its first try failed and it was retried later
        bodies = [json.loads(c.request.body)["status"] for c in rsps.calls]
    assert bodies == ["completed"]
    with tenant_context(connection.org_id):
        assert owed["pending"].status == "delivered" and owed["pending"].tries.count() == 1
    assert assessment_state(invitation)["callback_status"] == "completed"


def test_in_order_both_are_sent(client, workable):
    connection, key = workable
    invitation = start(client, key)
    complete_invitation(invitation)
    owed = by_status(connection)
    with responses.RequestsMock() as rsps:
        rsps.add(responses.PUT, CALLBACK, json={})
        attempt(owed["pending"])
        attempt(owed["completed"])
        assert [json.loads(c.request.body)["status"] for c in rsps.calls] == [
            "pending", "completed"]


# --- Workable's answers -------------------------------------------------------------------------

@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_token_waits_for_the_admin(client, workable, status):
    connection, key = workable
    start(client, key)
    with responses.RequestsMock() as rsps:
        rsps.add(responses.PUT, CALLBACK, status=status,
                 json={"status": status, "message": "Invalid token"})
        delivery = attempt(deliveries(connection)[0])
    with tenant_context(connection.org_id):
        connection.refresh_from_db()
    assert delivery.status == "pending" and delivery.next_attempt_at > timezone.now()
    assert connection.status == "needs_reconnect"
    assert "re-enter the access token Workable issued" in delivery.last_error
    assert "Invalid token" in delivery.last_error and connection.last_error


@pytest.mark.parametrize(("status", "error"), [(404, "NotFound"), (400, "Permanent"),
                                               (422, "Permanent")])
def test_refusals_are_permanent_with_workables_message(client, workable, status, error):
    connection, key = workable
    start(client, key)
    with responses.RequestsMock() as rsps:
        rsps.add(responses.PUT, CALLBACK, status=status,
                 json={"status": status, "message": "results_url is required"})
        delivery = attempt(deliveries(connection)[0])
    assert delivery.status == "failed"
    assert delivery.last_error.startswith(error) and "results_url is required" in \
        delivery.last_error
    with tenant_context(connection.org_id):
        assert delivery.tries.get().status_code == status


def test_a_429_is_retried_after_retry_after(client, workable):
    connection, key = workable
    start(client, key)
    before = timezone.now()
    with responses.RequestsMock() as rsps:
        rsps.add(responses.PUT, CALLBACK, status=429, headers={"Retry-After": "90"},
                 json={"status": 429, "message": "slow down"})
        delivery = attempt(deliveries(connection)[0])
    assert delivery.status == "pending"
    assert delivery.next_attempt_at >= before + timedelta(seconds=89)


def test_5xx_is_retried_through_the_outbox_until_it_arrives(client, workable):
    connection, key = workable
    start(client, key)
    [delivery] = deliveries(connection)
    with responses.RequestsMock() as rsps:
        rsps.add(responses.PUT, CALLBACK, status=503, json={"status": 503, "message": "down"})
        attempt(delivery)
        assert delivery.status == "pending" and len(rsps.calls) == 3  # the client's quick tries
    with tenant_context(connection.org_id):
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    with responses.RequestsMock() as rsps:
        rsps.add(responses.PUT, CALLBACK, json={})
        attempt(delivery)
    assert delivery.status == "delivered"
    with tenant_context(connection.org_id):
        assert [(t.ok, t.status_code) for t in delivery.tries.order_by("started_at")] == [
            (False, 503), (True, None)]


def test_without_a_workable_token_nothing_is_sent_and_the_admin_is_told(client, org_a):
    catalog_test(TEST)
    connection, key = connect(org_a, token="")
    start(client, key)
    with responses.RequestsMock() as rsps:
        delivery = attempt(deliveries(connection)[0])
        assert len(rsps.calls) == 0
    assert delivery.status == "pending" and "no Workable access token" in delivery.last_error


def test_a_callback_url_is_checked_again_when_delivering(client, workable):
    connection, key = workable
    start(client, key, callback_url="http://127.0.0.1:9/assessments/1")
    with tenant_context(connection.org_id):
        Connection.objects.filter(pk=connection.pk).update(is_sandbox=False)
    with responses.RequestsMock() as rsps:
        delivery = attempt(deliveries(connection)[0])
        assert len(rsps.calls) == 0
    assert delivery.status == "failed" and "https" in delivery.last_error


def test_raise_for_response_maps_workables_statuses(workable):
    adapter = WorkableAdapter(workable[0])
    for status, error in {401: AuthError, 403: AuthError, 404: NotFound,
                          400: PermanentProviderError, 422: PermanentProviderError,
                          429: RateLimited}.items():
        with pytest.raises(error):
            adapter.raise_for_response(response_with(status))
    for status in (200, 201, 204):
        adapter.raise_for_response(response_with(status))


def test_the_admin_sees_the_base_url_and_the_two_endpoints(workable, settings):
    urls = WorkableAdapter(workable[0]).endpoint_urls()
    base = f"{settings.SITE_URL}/integrations/workable"
    assert urls[0] == ("Base URL to enter in Workable", base)
    assert [u for _, u in urls[1:]] == [f"{settings.SITE_URL}/integrations/workable/tests",
                                        f"{settings.SITE_URL}/integrations/workable/assessments"]
