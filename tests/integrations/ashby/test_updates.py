"""Our assessment.update calls to Ashby, through the real outbox, Ashby faked with `responses`:
what each event sends (method, URL, headers, body), timestamps that only go up (retries,
out-of-order deliveries, concurrent workers), verdicts, and Ashby's errors mapped as the brief
says, including the partner-wide 429 that pauses every Ashby connection."""

from __future__ import annotations

import base64
import json
import threading
import time
from datetime import timedelta

import pytest
import responses
from django.db import connection as db_connection
from django.test import Client
from django.utils import timezone

from assessments.invitations import cancel_invitation, expire_due_invitations, give_verdict
from assessments.models import Invitation
from assessments.models import TestPackage as Package
from integrations import outbox, summary
from integrations.models import Delivery, ExternalAssessment
from integrations.providers.ashby import throttle, updates
from tenants.context import tenant_context
from tests.integrations.ashby.conftest import API, API_KEY, TEST, call, connect, fixture_json
from tests.integrations.contract import complete_invitation
from tests.rls_rows import catalog_test

pytestmark = pytest.mark.django_db

UPDATE_URL = f"{API}/assessment.update"
OTHER_TEST = "self-efficacy-ipip"


def start(client, ashby, **candidate) -> tuple[str, Invitation]:
    body = fixture_json("assessment_start__full")
    if candidate:
        body["candidate"].update(candidate)
        body["application"]["ashby_id"] = f"app-{candidate.get('ashby_id', 'x')}"
    response = call(client, "assessment.start", body, ashby.key)
    assert response.status_code == 200, response.content
    aid = response.json()["results"]["assessment_id"]
    with tenant_context(ashby.connection.org):
        invitation = Invitation.objects.get(source_ref__assessment_id=aid)
    return aid, invitation


def pending(ashby, event: str | None = None) -> list[Delivery]:
    with tenant_context(ashby.connection.org):
        found = Delivery.objects.filter(connection=ashby.connection, kind="ashby.update")
        if event:
            found = found.filter(payload__event=event)
        return list(found.order_by("pk"))


def attempt(ashby, delivery: Delivery) -> Delivery:
    with tenant_context(ashby.connection.org):
        outbox.attempt(delivery.pk)
        delivery.refresh_from_db()
    return delivery


def sent_bodies(rsps) -> list[dict]:
    return [json.loads(c.request.body) for c in rsps.calls]


def state_of(ashby, aid: str) -> dict:
    with tenant_context(ashby.connection.org):
        return ExternalAssessment.objects.get(public_id=aid).state


@pytest.fixture
def ashby_api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.POST, UPDATE_URL, json={"success": True})
        yield rsps


# --- what each event sends ----------------------------------------------------------------------

def test_started_then_completed_send_the_expected_requests(client, ashby, ashby_api):
    aid, invitation = start(client, ashby)
    invited_ts = state_of(ashby, aid)["invited_ts"]
    assert pending(ashby) == []  # "Invited" travelled in start's answer
    complete_invitation(invitation)
    started, completed = pending(ashby)
    assert (started.payload["event"], completed.payload["event"]) == ("started", "completed")
    assert started.key == f"ashby.update:{aid}:started"
    for delivery in (started, completed):
        assert attempt(ashby, delivery).status == "delivered", delivery.last_error

    first, second = ashby_api.calls
    for sent in (first, second):
        request = sent.request
        assert request.method == "POST" and request.url == UPDATE_URL
        assert request.headers["Authorization"] == "Basic " + base64.b64encode(
            f"{API_KEY}:".encode()).decode()
        assert request.headers["Accept"] == "application/json; version=1"
        assert request.headers["Content-Type"] == "application/json"
        assert request.headers["User-Agent"].startswith("Assay/")
    one, two = sent_bodies(ashby_api)
    assert one == {"assessment_id": aid, "timestamp": one["timestamp"],
                   "assessment_status": {"identifier": "status", "label": "Status",
                                         "type": "string", "value": "Started"}}
    assert invited_ts < one["timestamp"] < two["timestamp"]
    assert all(isinstance(b["timestamp"], int) for b in (one, two))

    with tenant_context(ashby.connection.org):
        envelopes = summary.envelopes(invitation)
    assert two["assessment_status"]["value"] == "Completed"
    assert two["assessment_result"]["type"] == "numeric_score"
    assert two["assessment_result"]["value"] == summary.overall_score(envelopes)
    # big-five-mini names no primary dimension: the overall is the first dimension's score
    assert two["assessment_result"]["value"] == envelopes[0]["dimensions"][0]["score"]
    assert two["assessment_profile_url"] == {
        "identifier": "report_url", "label": "Assay report", "type": "url",
        "value": summary.report_url(invitation)}
    assert two["assessment_profile_url"]["value"].endswith(f"/r/{invitation.public_id}")
    metadata = {m["identifier"]: m for m in two["metadata"]}
    assert {k: m["value"] for k, m in metadata.items() if k.startswith("dim_")} == {
        f"dim_{d['key']}": d["score"] for d in envelopes[0]["dimensions"]}
    assert all(m["type"] == "numeric_score" for k, m in metadata.items() if k.startswith("dim_"))
    assert metadata["duration"]["type"] == "numeric_duration_minutes"
    assert len(metadata) == len({m["identifier"] for m in two["metadata"]})
    assert state_of(ashby, aid)["last_ts"] == two["timestamp"]


def test_a_package_is_one_assessment_with_every_dimension(client, ashby, org_a, ashby_api):
    catalog_test(OTHER_TEST)
    with tenant_context(org_a):
        Package.objects.create(org=org_a, name="Pack", slug="pack", tests=[TEST, OTHER_TEST])
    body = fixture_json("assessment_start__full")
    body["assessment_type_id"] = "package:pack"
    response = call(client, "assessment.start", body, ashby.key)
    with tenant_context(org_a):
        invitation = Invitation.objects.get()
    complete_invitation(invitation)
    [completed] = pending(ashby, "completed")
    sent = completed.payload["body"]
    with tenant_context(org_a):
        envelopes = summary.envelopes(invitation)
    # self-efficacy names a primary dimension: its overall wins over big-five's first dimension
    assert sent["assessment_result"]["value"] == envelopes[1]["overall"]["score"]
    keys = [m["identifier"] for m in sent["metadata"]]
    assert f"dim_{TEST}.extraversion" in keys and f"dim_{OTHER_TEST}.self_efficacy" in keys
    assert response.json()["results"]["assessment_id"] == completed.payload["assessment_id"]


def test_cancelled_in_assay_and_expired_send_a_cancelled_reason(client, ashby, ashby_api):
    aid, invitation = start(client, ashby)
    cancel_invitation(invitation)
    [cancelled] = pending(ashby)
    assert cancelled.payload["body"]["cancelled_reason"]["value"] == (
        "Cancelled in Assay by the hiring team")

    other, later = start(client, ashby, ashby_id="c-2", email="grace@example.com")
    with tenant_context(ashby.connection.org):
        Invitation.objects.filter(pk=later.pk).update(expires_at=timezone.now())
    assert expire_due_invitations(ashby.connection.org) == 1
    expired = pending(ashby, "expired")[0]
    reason = expired.payload["body"]["cancelled_reason"]
    assert reason["label"] == "Expired" and "expired" in reason["value"]
    for delivery in (cancelled, expired):
        assert attempt(ashby, delivery).status == "delivered"
    bodies = sent_bodies(ashby_api)
    assert [b["assessment_id"] for b in bodies] == [aid, other]
    assert all("assessment_status" not in b for b in bodies)


def test_verdicts_repeat_the_completion_with_a_boolean(client, ashby, ashby_api, org_a):
    aid, invitation = start(client, ashby)
    complete_invitation(invitation)
    with tenant_context(org_a):
        give_verdict(invitation, "up")
        up = pending(ashby)[-1]
        invitation.refresh_from_db()
        time.sleep(0.01)
        give_verdict(invitation, "down")
        down = pending(ashby)[-1]
    assert up.payload["event"].startswith("verdict:") and up.pk != down.pk
    assert up.payload["seq"] < down.payload["seq"]
    for delivery in pending(ashby):
        attempt(ashby, delivery)
    bodies = sent_bodies(ashby_api)
    assert [b.get("assessment_status", {}).get("value") for b in bodies] == [
        "Started", "Completed", "Completed", "Completed"]
    verdicts = [{m["identifier"]: m for m in b["metadata"]}["verdict"] for b in bodies[2:]]
    assert [v["value"] for v in verdicts] == [True, False]
    assert all(v["type"] == "boolean_success" for v in verdicts)
    assert bodies[2]["assessment_result"] == bodies[1]["assessment_result"]
    stamps = [b["timestamp"] for b in bodies]
    assert stamps == sorted(set(stamps))


# --- order and timestamps -----------------------------------------------------------------------

def test_timestamps_increase_even_when_the_clock_does_not(client, ashby, ashby_api, monkeypatch):
    aid, invitation = start(client, ashby)
    invited = state_of(ashby, aid)["invited_ts"]
    monkeypatch.setattr(updates, "now_ms", lambda: invited - 5000)  # a clock gone backwards
    complete_invitation(invitation)
    for delivery in pending(ashby):
        attempt(ashby, delivery)
    assert [b["timestamp"] for b in sent_bodies(ashby_api)] == [invited + 1, invited + 2]


def test_a_retry_is_stamped_again_and_later(client, ashby):
    aid, invitation = start(client, ashby)
    complete_invitation(invitation)
    started = pending(ashby, "started")[0]
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, UPDATE_URL, status=503, json={"success": False,
                                                               "errors": ["unavailable"]})
        rsps.add(responses.POST, UPDATE_URL, json={"success": True})
        assert attempt(ashby, started).status == "pending"
        failed_ts = state_of(ashby, aid)["last_ts"]
        with tenant_context(ashby.connection.org):
            Delivery.objects.filter(pk=started.pk).update(next_attempt_at=timezone.now())
        assert attempt(ashby, started).status == "delivered"
        first, second = sent_bodies(rsps)
    assert first["timestamp"] == failed_ts < second["timestamp"]
    assert state_of(ashby, aid)["sent_seq"] == [1, 0]


def test_a_late_started_after_completed_is_skipped(client, ashby, ashby_api):
    aid, invitation = start(client, ashby)
    complete_invitation(invitation)
    started, completed = pending(ashby)
    assert attempt(ashby, completed).status == "delivered"
    assert attempt(ashby, started).status == "delivered"  # nothing left to do for it
    [only] = sent_bodies(ashby_api)
    assert only["assessment_status"]["value"] == "Completed"
    assert state_of(ashby, aid)["sent_seq"] == [2, 0]


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_assessment_take_turns(org_a, monkeypatch):
    """The verdict's worker waits for the completion's send (the row lock), then stamps after
    it, even with a clock that never moves."""
    catalog_test(TEST)
    throttle.clear()
    ashby = connect(org_a)
    aid, invitation = start(Client(), ashby)
    complete_invitation(invitation)
    with tenant_context(org_a):
        give_verdict(invitation, "up")
    invited = state_of(ashby, aid)["invited_ts"]
    monkeypatch.setattr(updates, "now_ms", lambda: 0)
    arrived: list[tuple[int, str]] = []
    in_flight = threading.Event()

    def slow_ashby(request):
        body = json.loads(request.body)
        arrived.append((body["timestamp"], "verdict" if any(
            m["identifier"] == "verdict" for m in body["metadata"]) else "completed"))
        in_flight.set()
        time.sleep(0.5)
        return 200, {}, json.dumps({"success": True})

    def work(delivery):
        try:
            with tenant_context(org_a):
                outbox.attempt(delivery.pk)
        finally:
            db_connection.close()

    completed, verdict = pending(ashby, "completed")[0], pending(ashby)[-1]
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add_callback(responses.POST, UPDATE_URL, callback=slow_ashby)
        first = threading.Thread(target=work, args=(completed,))
        first.start()
        assert in_flight.wait(10)
        second = threading.Thread(target=work, args=(verdict,))
        second.start()
        for thread in (first, second):
            thread.join(30)
    assert arrived == [(invited + 1, "completed"), (invited + 2, "verdict")]
    assert state_of(ashby, aid)["last_ts"] == invited + 2


# --- Ashby's errors -----------------------------------------------------------------------------

@pytest.mark.parametrize(("status", "headers", "body", "outcome", "words"), [
    (200, {}, {"success": False, "errors": ["assessment_not_found"]}, "failed",
     "assessment_not_found"),
    (401, {}, {"success": False, "errors": ["Missing API key"]}, "pending", "401"),
    (403, {}, {"success": False, "errors": ["invalid_api_key"]}, "pending",
     "wrong or deactivated"),
    (403, {}, {"success": False, "errors": ["missing_endpoint_permission"]}, "pending",
     "grant candidatesWrite"),
    (403, {"Content-Type": "text/plain"}, "error code: 1010", "failed", "User-Agent"),
    (404, {}, {"success": False, "errors": ["not_found"]}, "failed", "not_found"),
    (429, {"Retry-After": "30"}, {"success": False, "errors": ["rate_limit_exceeded"]},
     "pending", "rate_limit_exceeded"),
    (500, {}, {"success": False, "errors": ["internal_server_error"]}, "pending",
     "internal_server_error"),
    (502, {"Content-Type": "text/html"}, "<html>bad gateway</html>", "pending", "502"),
])
def test_ashby_errors_map_as_the_brief_says(client, ashby, status, headers, body, outcome,
                                            words):
    _, invitation = start(client, ashby)
    complete_invitation(invitation)
    delivery = pending(ashby, "started")[0]
    before = timezone.now()
    with responses.RequestsMock() as rsps:
        kwargs = {"json": body} if isinstance(body, dict) else {"body": body}
        rsps.add(responses.POST, UPDATE_URL, status=status, headers=headers, **kwargs)
        delivery = attempt(ashby, delivery)
    assert delivery.status == outcome, delivery.last_error
    assert words in delivery.last_error
    with tenant_context(ashby.connection.org):
        ashby.connection.refresh_from_db()
    assert ashby.connection.last_error
    reconnect = status in (401, 403) and outcome == "pending"
    assert (ashby.connection.status == "needs_reconnect") == reconnect
    if status == 429:
        assert delivery.next_attempt_at >= before + timedelta(seconds=29)
        assert throttle.remaining() == 0  # a per-key 429 pauses no one else


def test_a_partner_wide_429_pauses_every_ashby_connection(client, ashby, org_b):
    other = connect(org_b, name="Ashby (other org)")
    _, first = start(client, ashby)
    _, second = start(client, other)
    complete_invitation(first)
    complete_invitation(second)
    before = timezone.now()
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, UPDATE_URL, status=429, json={
            "success": False, "errors": ["rate_limit_exceeded"]},
            headers={"Retry-After": "120", "X-RateLimit-Scope": "integration-partner"})
        delivery = attempt(ashby, pending(ashby, "started")[0])
        assert delivery.status == "pending" and "all organisations" in delivery.last_error
        assert 100 < throttle.remaining() <= 120
        # The other organisation's connection does not call Ashby at all while paused.
        held = attempt(other, pending(other, "started")[0])
        assert len(rsps.calls) == 1
    assert held.status == "pending" and "all organisations" in held.last_error
    assert held.next_attempt_at >= before + timedelta(seconds=100)
    with tenant_context(org_b):
        [tried] = held.tries.all()
        other.connection.refresh_from_db()
    assert tried.status_code is None and not tried.ok
    assert other.connection.status == "active"  # nothing wrong with its key
    throttle.clear()
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, UPDATE_URL, json={"success": True})
        with tenant_context(org_b):
            Delivery.objects.filter(pk=held.pk).update(next_attempt_at=timezone.now())
        assert attempt(other, held).status == "delivered"


def test_a_partner_wide_429_without_retry_after_pauses_a_minute(client, ashby):
    _, invitation = start(client, ashby)
    complete_invitation(invitation)
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, UPDATE_URL, status=429, json={"success": False},
                 headers={"X-RateLimit-Scope": "integration-partner"})
        delivery = attempt(ashby, pending(ashby, "started")[0])
    assert delivery.status == "pending"
    assert 50 < throttle.remaining() <= 60


def test_production_connections_call_only_ashby(client, org_a, settings):
    catalog_test(TEST)
    wrong = connect(org_a, api_url="http://127.0.0.1:9", sandbox=False, name="prod-wrong")
    _, invitation = start(client, wrong)
    complete_invitation(invitation)
    with responses.RequestsMock() as rsps:
        delivery = attempt(wrong, pending(wrong, "started")[0])
        assert len(rsps.calls) == 0
    assert delivery.status == "failed" and "not calling Ashby" in delivery.last_error

    assert settings.ASHBY_API_URL == "https://api.ashbyhq.com"
    real = connect(org_a, api_url=None, sandbox=False, name="prod")
    _, invitation = start(client, real, ashby_id="c-2", email="grace@example.com")
    complete_invitation(invitation)
    with responses.RequestsMock() as rsps:
        rsps.add(responses.POST, "https://api.ashbyhq.com/assessment.update",
                 json={"success": True})
        assert attempt(real, pending(real, "started")[0]).status == "delivered"
    assert not invitation.sandbox


def test_a_connection_without_an_api_key_asks_for_one(client, org_a):
    catalog_test(TEST)
    keyless = connect(org_a, api_key="")
    _, invitation = start(client, keyless)
    complete_invitation(invitation)
    with responses.RequestsMock() as rsps:
        delivery = attempt(keyless, pending(keyless, "started")[0])
        assert len(rsps.calls) == 0
    assert delivery.status == "pending" and "candidatesWrite" in delivery.last_error
