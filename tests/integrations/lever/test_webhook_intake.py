"""Lever webhook intake: verify, store, commit, enqueue, answer — and every bad input a 4xx."""

from __future__ import annotations

import json
import secrets
import time
import uuid
from pathlib import Path

import pytest

from integrations.models import Connection, InboundEvent
from integrations.providers.lever.signatures import sign
from tenants.context import platform_context, tenant_context

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "lever" / "webhooks"
SECRET = "lever-signature-token-for-tests"


@pytest.fixture
def connection(org_a):
    with tenant_context(org_a):
        return Connection.objects.create(org=org_a, provider="lever", status="active",
                                         webhook_secret=SECRET)


def delivery(name="candidateStageChange__basic", *, secret=SECRET, **changes) -> dict:
    payload = json.loads((FIXTURES / f"{name}.json").read_bytes())
    payload.update(token=secrets.token_hex(24), triggeredAt=int(time.time() * 1000))
    payload.update(changes)
    payload["signature"] = sign(payload["token"], payload["triggeredAt"], secret)
    return payload


def post(client, connection_id, body, **extra):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return client.post(f"/integrations/lever/{connection_id}/webhook", data=data,
                       content_type="application/json", **extra)


def events(connection):
    with tenant_context(connection.org):
        return list(InboundEvent.objects.filter(connection=connection))


def test_a_signed_stage_change_is_stored_and_queued_before_the_answer(
        client, connection, django_capture_on_commit_callbacks):
    payload = delivery()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post(client, connection.public_id, payload)
    assert response.status_code == 200
    assert response.json() == {"status": "accepted"}
    [event] = events(connection)
    assert event.status == "pending" and event.dedupe_key == payload["token"]
    assert json.loads(event.body) == payload
    assert len(callbacks) == 1  # the worker is asked only once the row is committed
    with tenant_context(connection.org):
        connection.refresh_from_db()
    assert connection.last_inbound_at is not None


def test_the_same_delivery_five_times_has_one_effect(client, connection,
                                                     django_capture_on_commit_callbacks):
    payload = delivery()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answers = [post(client, connection.public_id, payload) for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert [a.json()["status"] for a in answers] == ["accepted"] + ["duplicate"] * 4
    assert len(events(connection)) == 1
    assert len(callbacks) == 1


def test_lever_test_button_is_answered_and_ignored(client, connection,
                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = post(client, connection.public_id, delivery("candidateHired__test_ping"))
    assert response.status_code == 200 and response.json()["status"] == "ignored"
    assert [e.status for e in events(connection)] == ["ignored"]
    assert callbacks == []


def test_an_unsigned_delivery_is_refused(client, connection):
    payload = delivery()
    del payload["signature"]
    response = post(client, connection.public_id, payload)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unsigned"
    assert events(connection) == []


def test_a_forged_signature_is_refused(client, connection):
    response = post(client, connection.public_id, delivery(secret="not-the-secret"))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"
    assert events(connection) == []


def test_a_tampered_payload_is_refused(client, connection):
    payload = delivery()
    payload["token"] = secrets.token_hex(24)  # the signature covers token + triggeredAt
    assert post(client, connection.public_id, payload).status_code == 401


def test_an_unknown_connection_is_not_found(client, connection):
    response = post(client, uuid.uuid4(), delivery())
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_connection"


def test_a_disconnected_connection_is_not_found(client, connection):
    with platform_context("test"):
        Connection.objects.filter(pk=connection.pk).update(status="disconnected")
    assert post(client, connection.public_id, delivery()).status_code == 404


@pytest.mark.parametrize("body", [b"{not json", b"[]", b'"text"',
                                  json.dumps({"event": "candidateStageChange"})])
def test_malformed_bodies_are_bad_requests(client, connection, body):
    response = post(client, connection.public_id, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "malformed"


def test_a_stage_change_without_its_ids_is_a_bad_request(client, connection):
    payload = delivery(data={"opportunityId": "opp"})
    response = post(client, connection.public_id, payload)
    assert response.status_code == 400
    assert "toStageId" in response.json()["error"]["message"]


def test_an_old_delivery_is_refused_as_stale(client, connection):
    eight_days_ago = int((time.time() - 8 * 24 * 3600) * 1000)
    response = post(client, connection.public_id, delivery(triggeredAt=eight_days_ago))
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "stale"


def test_an_oversize_body_is_refused(client, connection):
    payload = delivery()
    payload["padding"] = "x" * (1024 * 1024 + 1)
    response = post(client, connection.public_id, payload)
    assert response.status_code == 413
    assert events(connection) == []


def test_only_post_is_accepted(client, connection):
    assert client.get(f"/integrations/lever/{connection.public_id}/webhook").status_code == 405


def test_the_stored_event_belongs_to_the_connections_org_only(client, connection, org_b):
    post(client, connection.public_id, delivery())
    with tenant_context(org_b):
        assert InboundEvent.objects.count() == 0
    with tenant_context(connection.org):
        assert InboundEvent.objects.get().org_id == connection.org_id
