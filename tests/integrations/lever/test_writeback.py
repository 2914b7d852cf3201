"""Results into Lever through the outbox, against the fake Lever over real HTTP.

Exactly one feedback form and one note per result, whatever is retried; faults (503, 429 with
Retry-After) delay delivery but lose nothing; the template is created once and recreated when
Lever says it is gone.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests

from assessments.catalog_loader import CATALOG_DIR
from assessments.envelope import build_envelope, validate_envelope
from assessments.scoring import score_test
from integrations import outbox
from integrations.models import Connection, Delivery
from tenants.context import tenant_context
from tests.integrations.lever.conftest import connect_to_fake, control

pytestmark = pytest.mark.django_db


def envelope(slug="big-five-mini-ipip-20") -> dict:
    test = json.loads((CATALOG_DIR / f"{slug}.json").read_text())
    rng = random.Random(7)
    answers = {item["id"]: rng.randint(1, 5) for item in test["items"]}
    now = datetime.now(UTC)
    result_id = uuid.uuid4()
    env = build_envelope(score_test(test, answers), result_id=result_id,
                         invitation_id=uuid.uuid4(), sandbox=True, candidate_external_id="opp",
                         candidate_source="lever", started_at=now - timedelta(minutes=5),
                         completed_at=now, report_url=f"http://testserver/r/{result_id}")
    validate_envelope(env)
    return env


@pytest.fixture
def setup(fake_lever, org_a):
    connection, _, state = connect_to_fake(fake_lever, org_a)
    return connection, state["opportunities"][0]["id"]


def deliver(connection, opportunity, env) -> Delivery:
    with tenant_context(connection.org):
        delivery = outbox.enqueue(connection.org, kind="lever.result", connection=connection,
                                  key=f"result:{env['result_id']}:lever:{connection.public_id}",
                                  payload={"envelope": env, "opportunity_id": opportunity})
        outbox.attempt(delivery.pk)
        delivery.refresh_from_db()
        return delivery


def written(server, opportunity):
    state = control(server, "GET", "state")
    return ([f for f in state["feedback"] if f["opportunityId"] == opportunity],
            [n for n in state["notes"] if n["opportunityId"] == opportunity], state)


def test_a_result_becomes_one_feedback_form_and_one_note(fake_lever, setup):
    connection, opportunity = setup
    env = envelope()
    delivery = deliver(connection, opportunity, env)
    assert delivery.status == "delivered" and delivery.attempts == 1
    forms, notes, state = written(fake_lever, opportunity)
    assert len(forms) == 1 and len(notes) == 1
    [template] = [t for t in state["feedback_templates"] if t["text"].startswith("Assay — ")]
    assert template["text"] == f"Assay — {env['test']['name']}"
    types = [f["type"] for f in template["fields"]]
    assert types.count("score-system") == 1
    assert types.count("text") == len(env["dimensions"]) + 1
    by_name = {f["text"]: f["value"] for f in forms[0]["fields"]}
    for dim in env["dimensions"]:
        assert by_name[dim["name"]] == str(dim["score"])
    assert by_name["Report"] == env["report_url"]
    assert by_name["Assessment rating"] is None  # empty until a recruiter's verdict
    assert f"Assay result {env['result_id']}" in by_name["Summary"]
    assert forms[0]["user"] == connection.config["perform_as"] or forms[0].get("user")
    note = notes[0]["fields"][0]["value"]
    assert env["report_url"] in note and env["test"]["name"] in note
    with tenant_context(connection.org):
        assert delivery.tries.count() == 1
        connection.refresh_from_db()
    assert connection.last_delivery_at is not None


def test_a_retried_delivery_writes_nothing_twice(fake_lever, setup):
    connection, opportunity = setup
    env = envelope()
    delivery = deliver(connection, opportunity, env)
    with tenant_context(connection.org):
        Delivery.objects.filter(pk=delivery.pk).update(status="pending")
        outbox.attempt(delivery.pk)
    forms, notes, _ = written(fake_lever, opportunity)
    assert (len(forms), len(notes)) == (1, 1)


def test_the_template_is_created_once_per_test(fake_lever, setup):
    connection, opportunity = setup
    deliver(connection, opportunity, envelope())
    deliver(connection, opportunity, envelope())
    forms, notes, state = written(fake_lever, opportunity)
    assert (len(forms), len(notes)) == (2, 2)
    assert len([t for t in state["feedback_templates"] if t["text"].startswith("Assay")]) == 1


def test_a_template_deleted_in_lever_is_recreated(fake_lever, setup):
    connection, opportunity = setup
    deliver(connection, opportunity, envelope())
    with tenant_context(connection.org):
        connection.refresh_from_db()
    [stored] = connection.config["feedback_templates"].values()
    requests.delete(f"{fake_lever.api_url}/feedback_templates/{stored['id']}", timeout=10,
                    headers={"Authorization": "Bearer "
                             + json.loads(connection.credentials)["access_token"]})
    delivery = deliver(connection, opportunity, envelope())
    assert delivery.status == "delivered"
    forms, _, _ = written(fake_lever, opportunity)
    assert len(forms) == 2


def test_server_errors_delay_delivery_but_lose_nothing(fake_lever, setup):
    connection, opportunity = setup
    # More 503s than one try's in-call retries: the first outbox attempt fails.
    control(fake_lever, "POST", "faults", status=503, count=4, paths=r"/feedback$", method="POST")
    env = envelope()
    delivery = deliver(connection, opportunity, env)
    assert delivery.status == "pending" and delivery.attempts == 1
    assert "503" in delivery.last_error or "Transient" in delivery.last_error
    assert delivery.next_attempt_at > datetime.now(UTC)
    with tenant_context(connection.org):
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=datetime.now(UTC))
        outbox.attempt(delivery.pk)
        delivery.refresh_from_db()
        tries = list(delivery.tries.order_by("started_at").values_list("ok", flat=True))
    assert delivery.status == "delivered" and tries == [False, True]
    forms, notes, _ = written(fake_lever, opportunity)
    assert (len(forms), len(notes)) == (1, 1)


def test_a_long_retry_after_is_honoured(fake_lever, setup):
    connection, opportunity = setup
    control(fake_lever, "POST", "faults", status=429, count=1, retry_after=120,
            paths=r"/feedback$", method="GET")
    delivery = deliver(connection, opportunity, envelope())
    assert delivery.status == "pending"
    wait = (delivery.next_attempt_at - datetime.now(UTC)).total_seconds()
    assert wait >= 110


def test_without_a_lever_user_to_post_as_the_delivery_fails_visibly(fake_lever, setup):
    connection, opportunity = setup
    with tenant_context(connection.org):
        Connection.objects.filter(pk=connection.pk).update(config={
            "api_url": fake_lever.api_url})
        connection.refresh_from_db()
    delivery = deliver(connection, opportunity, envelope())
    assert delivery.status == "failed"
    assert "post results as" in delivery.last_error
    with tenant_context(connection.org):
        connection.refresh_from_db()
    assert "post results as" in connection.last_error


def test_a_delivery_is_written_once_per_key(org_a, setup):
    connection, opportunity = setup
    env = envelope()
    with tenant_context(org_a):
        key = f"result:{env['result_id']}:lever:{connection.public_id}"
        first = outbox.enqueue(org_a, kind="lever.result", key=key, connection=connection,
                               payload={"envelope": env, "opportunity_id": opportunity})
        again = outbox.enqueue(org_a, kind="lever.result", key=key, connection=connection,
                               payload={"envelope": env, "opportunity_id": opportunity})
        assert first.pk == again.pk and Delivery.objects.count() == 1


@pytest.mark.celery_worker
def test_the_sweeper_delivers_what_lost_its_message(celery_worker, fake_lever, setup):
    from integrations.tasks import sweep

    connection, opportunity = setup
    env = envelope()
    with tenant_context(connection.org):
        # Written as if its Celery message had been lost with a Redis restart.
        delivery = Delivery.objects.create(
            org=connection.org, connection=connection, kind="lever.result",
            key=f"result:{env['result_id']}", payload={"envelope": env,
                                                      "opportunity_id": opportunity},
            next_attempt_at=datetime.now(UTC) - timedelta(minutes=5))
    assert sweep() >= 1
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with tenant_context(connection.org):
            delivery.refresh_from_db()
        if delivery.status == "delivered":
            break
        time.sleep(0.2)
    assert delivery.status == "delivered"
    forms, notes, _ = written(fake_lever, opportunity)
    assert (len(forms), len(notes)) == (1, 1)


def test_an_admin_retries_a_failed_delivery_from_the_console(client, fake_lever, setup,
                                                             django_capture_on_commit_callbacks):
    from tenants.context import platform_context
    from tenants.models import Membership

    connection, opportunity = setup
    with tenant_context(connection.org):
        delivery = Delivery.objects.create(
            org=connection.org, connection=connection, kind="lever.result", key="k",
            status="failed", payload={"envelope": envelope(), "opportunity_id": opportunity})
    with platform_context("test"):
        owner = Membership.objects.get(org=connection.org, role="owner").user
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post("/admin/integrations/delivery/", {
            "action": "retry_now", "_selected_action": [delivery.pk]})
    assert response.status_code == 302
    with tenant_context(connection.org):
        delivery.refresh_from_db()
    assert delivery.status == "pending" and len(callbacks) == 1
