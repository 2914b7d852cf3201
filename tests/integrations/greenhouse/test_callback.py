"""The completion PATCH (brief §3.3, pitfall 16): which outbox rows are written and when, what
each sends (method, URL, headers, no body), how Greenhouse's failures map, and retries through
the outbox. Greenhouse is faked at the HTTP boundary with `responses`."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
import requests
import responses
from django.utils import timezone

from assessments.invitations import cancel_invitation, give_verdict, set_status
from assessments.models import Invitation
from integrations import outbox, partner_keys, registry
from integrations.errors import AuthError, NotFound, PermanentProviderError, RateLimited
from integrations.models import Connection, Delivery, ExternalAssessment
from integrations.providers.greenhouse.client import GreenhouseClient, basic_key
from tenants.context import tenant_context
from tests.integrations.contract import complete_invitation
from tests.integrations.greenhouse.conftest import (
    PATCH_URL,
    TAKE_HOME,
    connect,
    fixture,
    send,
    status,
)

pytestmark = pytest.mark.django_db

URL = PATCH_URL


def start(client, connection, key, **changes) -> tuple[str, Invitation]:
    response = send(client, key, fixture("send_test__full", **changes))
    assert response.status_code == 200, response.content
    interview = response.json()["partner_interview_id"]
    with tenant_context(connection.org):
        assessment = ExternalAssessment.objects.get(public_id=interview)
        return interview, assessment.invitation


def deliveries(connection) -> list[Delivery]:
    with tenant_context(connection.org):
        return list(Delivery.objects.filter(connection=connection).order_by("pk"))


def attempt(connection, delivery: Delivery) -> Delivery:
    with tenant_context(connection.org):
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
        outbox.attempt(delivery.pk)
        delivery.refresh_from_db()
        connection.refresh_from_db()
        return delivery


def tries(connection, delivery) -> list[tuple[bool, int | None]]:
    with tenant_context(connection.org):
        return list(delivery.tries.order_by("started_at").values_list("ok", "status_code"))


@pytest.fixture
def completed(client, greenhouse):
    """A send_test whose invitation is completed: (connection, key, interview id, delivery)."""
    connection, key = greenhouse
    interview, invitation = start(client, connection, key)
    complete_invitation(invitation)
    [delivery] = deliveries(connection)
    return connection, key, interview, delivery


# --- what is written, and when -------------------------------------------------------------------

def test_only_completion_writes_a_patch_keyed_per_assessment(client, greenhouse):
    connection, key = greenhouse
    interview, invitation = start(client, connection, key)
    with tenant_context(connection.org):
        set_status(invitation, "opened")
    assert deliveries(connection) == []  # invited, opened, started: Greenhouse reads no PATCH
    complete_invitation(invitation)
    [delivery] = deliveries(connection)
    assert delivery.kind == "greenhouse.patch"
    assert delivery.key == f"greenhouse.patch:{interview}"
    assert delivery.payload == {"assessment_id": interview, "reason": "completed"}
    assert delivery.status == "pending"


def test_cancel_and_expiry_write_nothing(client, greenhouse):
    connection, key = greenhouse
    _, cancelled = start(client, connection, key)
    cancel_invitation(cancelled)
    response = send(client, key, fixture("send_test__no_optional"))  # another application
    with tenant_context(connection.org):
        expired = ExternalAssessment.objects.get(
            public_id=response.json()["partner_interview_id"]).invitation
        set_status(expired, "expired")
    assert deliveries(connection) == []


def test_each_verdict_writes_another_patch(client, completed):
    connection, key, interview, first = completed
    with tenant_context(connection.org):
        invitation = ExternalAssessment.objects.get(public_id=interview).invitation
        give_verdict(invitation, "up")
        give_verdict(invitation, "up")  # unchanged: nothing new
        give_verdict(invitation, "down")
    rows = deliveries(connection)
    assert len(rows) == 3 and rows[0].pk == first.pk
    assert [r.payload["reason"] for r in rows] == ["completed", "verdict", "verdict"]
    assert [r.payload.get("verdict") for r in rows[1:]] == ["up", "down"]
    assert len({r.key for r in rows}) == 3
    assert all(r.key.startswith(f"greenhouse.patch:{interview}:verdict:") for r in rows[1:])


def test_an_invitation_not_from_greenhouse_send_test_gets_no_patch(greenhouse):
    connection, _ = greenhouse
    adapter = registry.adapter(connection)
    with tenant_context(connection.org):
        from assessments.invitations import create_invitation

        invitation, _ = create_invitation(
            connection.org, tests=["big-five-mini-ipip-20"], source="greenhouse",
            send_email=False, candidate={"email": "x@example.com"},
            source_ref={"connection_id": str(connection.public_id)})
        assert adapter.on_status_changed(invitation, "started", "completed") == []


# --- what the PATCH sends ------------------------------------------------------------------------

def test_the_patch_has_no_body_and_the_key_as_basic_username(client, completed, settings):
    connection, key, interview, delivery = completed
    seen = {}

    def greenhouse_reads_status(request):
        # Greenhouse reads test_status right after the PATCH: it must already be final.
        seen["status"] = status(client, key, interview).json()
        return 200, {}, ""

    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.PATCH, URL, callback=greenhouse_reads_status)
        delivery = attempt(connection, delivery)
        [sent] = rsps.calls
    assert delivery.status == "delivered", delivery.last_error
    request = sent.request
    assert request.method == "PATCH" and request.url == URL
    assert request.headers["Authorization"] == basic_key(key)
    assert base64.b64decode(request.headers["Authorization"].split()[1]).decode() == f"{key}:"
    assert not request.body
    assert "Content-Type" not in request.headers
    assert request.headers["User-Agent"].startswith("Assay/")
    assert seen["status"]["partner_status"] == "complete"
    assert seen["status"]["partner_profile_url"].startswith(settings.SITE_URL)
    assert connection.last_delivery_at is not None
    assert tries(connection, delivery) == [(True, None)]


def test_a_204_is_success_too(completed):
    connection, _, _, delivery = completed
    with responses.RequestsMock() as rsps:
        rsps.add(responses.PATCH, URL, status=204)
        assert attempt(connection, delivery).status == "delivered"


def test_the_newest_url_of_a_repeated_send_is_patched(client, greenhouse):
    connection, key = greenhouse
    _, invitation = start(client, connection, key)
    start(client, connection, key, url=f"{TAKE_HOME}/777")
    complete_invitation(invitation)
    [delivery] = deliveries(connection)
    with responses.RequestsMock() as rsps:
        rsps.add(responses.PATCH, f"{TAKE_HOME}/777", status=200)
        assert attempt(connection, delivery).status == "delivered"


# --- Greenhouse's failures -----------------------------------------------------------------------

def test_401_asks_for_the_key_to_be_fixed_and_keeps_the_delivery(completed):
    connection, _, _, delivery = completed
    with responses.RequestsMock() as rsps:
        rsps.add(responses.PATCH, URL, status=401, json={"errors": [{"message": "bad key"}]})
        delivery = attempt(connection, delivery)
    assert delivery.status == "pending" and delivery.next_attempt_at > timezone.now()
    assert connection.status == "needs_reconnect"
    assert "enter the newest key in Greenhouse" in delivery.last_error
    assert connection.last_error.startswith("greenhouse.patch: AuthError")
    assert tries(connection, delivery) == [(False, 401)]


def test_after_a_rotation_the_previous_key_is_tried_when_greenhouse_refuses_the_new_one(
        client, greenhouse):
    connection, old_key = greenhouse
    _, invitation = start(client, connection, old_key)
    with tenant_context(connection.org):
        new_key = partner_keys.issue(connection)
        connection.refresh_from_db()
    assert registry.adapter(connection).keys() == [new_key, old_key]
    complete_invitation(invitation)
    [delivery] = deliveries(connection)

    def only_the_old_key(request):
        ok = request.headers["Authorization"] == basic_key(old_key)
        return (200 if ok else 401), {}, ""

    with responses.RequestsMock() as rsps:
        rsps.add_callback(responses.PATCH, URL, callback=only_the_old_key)
        delivery = attempt(connection, delivery)
        sent = [c.request.headers["Authorization"] for c in rsps.calls]
    assert delivery.status == "delivered"
    assert sent == [basic_key(new_key), basic_key(old_key)]


def test_issuing_keys_keeps_the_newest_two(greenhouse):
    connection, first = greenhouse
    with tenant_context(connection.org):
        second = partner_keys.issue(connection)
        third = partner_keys.issue(connection)
        connection.refresh_from_db()
    assert registry.adapter(connection).keys() == [third, second]
    stored = connection.credentials
    assert first not in stored and third in json.loads(stored).values()


def test_a_new_key_fixes_a_refused_one(completed):
    connection, _, _, delivery = completed
    with responses.RequestsMock() as rsps:
        rsps.add(responses.PATCH, URL, status=401)
        attempt(connection, delivery)
    assert connection.status == "needs_reconnect"
    with tenant_context(connection.org):
        new_key = partner_keys.issue(connection, overlap=None)
        connection.refresh_from_db()
    assert connection.status == "active"
    with responses.RequestsMock() as rsps:
        rsps.add(responses.PATCH, URL, status=200)
        delivery = attempt(connection, delivery)
        assert rsps.calls[0].request.headers["Authorization"] == basic_key(new_key)
    assert delivery.status == "delivered"


def test_no_key_kept_is_an_auth_error_saying_what_to_do(completed):
    connection, _, _, delivery = completed
    with tenant_context(connection.org):
        Connection.objects.filter(pk=connection.pk).update(credentials="")
    with responses.RequestsMock():
        delivery = attempt(connection, delivery)
    assert delivery.status == "pending" and "issue a new partner key" in delivery.last_error
    assert connection.status == "needs_reconnect"


@pytest.mark.parametrize("status_code,final", [(403, "failed"), (404, "failed"),
                                               (422, "failed")])
def test_other_4xx_are_permanent(completed, status_code, final):
    connection, _, _, delivery = completed
    with responses.RequestsMock() as rsps:
        rsps.add(responses.PATCH, URL, status=status_code)
        delivery = attempt(connection, delivery)
    assert delivery.status == final
    assert tries(connection, delivery) == [(False, status_code)]
    assert connection.last_error


def test_429_waits_as_long_as_greenhouse_asks(completed):
    connection, _, _, delivery = completed
    before = timezone.now()
    with responses.RequestsMock() as rsps:
        rsps.add(responses.PATCH, URL, status=429, headers={"Retry-After": "300"})
        delivery = attempt(connection, delivery)
    assert delivery.status == "pending"
    assert delivery.next_attempt_at >= before + timedelta(seconds=299)
    assert tries(connection, delivery) == [(False, 429)]


def test_5xx_is_retried_through_the_outbox_and_then_delivered_once(completed):
    connection, _, _, delivery = completed
    with responses.RequestsMock() as rsps:
        failing = rsps.add(responses.PATCH, URL, status=503)
        delivery = attempt(connection, delivery)
        assert failing.call_count == 3  # the client's short in-call retries
        assert delivery.status == "pending"
        rsps.replace(responses.PATCH, URL, status=200)
        delivery = attempt(connection, delivery)
    assert delivery.status == "delivered"
    assert tries(connection, delivery) == [(False, 503), (True, None)]


def test_a_redirect_is_not_followed(completed):
    connection, _, _, delivery = completed
    with responses.RequestsMock() as rsps:
        rsps.add(responses.PATCH, URL, status=302, headers={"Location": "http://10.0.0.1/x"})
        delivery = attempt(connection, delivery)
        assert len(rsps.calls) == 1
    assert delivery.status == "failed" and "redirect" in delivery.last_error.lower()


def test_a_stored_url_a_production_connection_may_not_call_is_never_called(completed):
    connection, _, interview, delivery = completed
    with tenant_context(connection.org):
        ExternalAssessment.objects.filter(public_id=interview).update(
            state={"url": "http://169.254.169.254/latest"})
    with responses.RequestsMock():
        delivery = attempt(connection, delivery)
    assert delivery.status == "failed" and "must use https" in delivery.last_error


def test_a_sandbox_connection_patches_a_loopback_url(client, org_a):
    connection, key = connect(org_a, sandbox=True)
    _, invitation = start(client, connection, key, url="http://127.0.0.1:8002/take_home_tests/9")
    complete_invitation(invitation)
    [delivery] = deliveries(connection)
    with responses.RequestsMock() as rsps:
        rsps.add(responses.PATCH, "http://127.0.0.1:8002/take_home_tests/9", status=200)
        assert attempt(connection, delivery).status == "delivered"


# --- the client on its own -----------------------------------------------------------------------

@pytest.mark.parametrize("status_code,error", [(401, AuthError), (404, NotFound),
                                               (400, PermanentProviderError),
                                               (429, RateLimited)])
def test_client_error_mapping(status_code, error):
    client = GreenhouseClient("k", max_attempts=1)
    with responses.RequestsMock() as rsps, pytest.raises(error):
        rsps.add(responses.PATCH, URL, status=status_code, headers={"Retry-After": "60"})
        client.notify_completed(URL)


def test_client_timeouts_are_transient():
    from integrations.errors import TransientProviderError

    client = GreenhouseClient("k", max_attempts=1)
    with responses.RequestsMock() as rsps, pytest.raises(TransientProviderError):
        rsps.add(responses.PATCH, URL, body=requests.ConnectTimeout("slow"))
        client.notify_completed(URL)
