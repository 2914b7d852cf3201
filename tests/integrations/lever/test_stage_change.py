"""A Lever stage change becomes one invitation; a completed test becomes one Lever delivery."""

from __future__ import annotations

import json
import secrets

import pytest

from assessments import attempts
from assessments.models import Invitation
from integrations.models import Delivery, InboundEvent, StageMapping
from integrations.tasks import process_inbound_event
from tenants.context import tenant_context
from tests.integrations.lever.conftest import connect_to_fake, control

pytestmark = pytest.mark.django_db


@pytest.fixture
def lever(fake_lever, org_a):
    return connect_to_fake(fake_lever, org_a)


def stage_change(connection, opportunity_id, stage_id) -> InboundEvent:
    body = {"event": "candidateStageChange", "token": secrets.token_hex(12),
            "triggeredAt": 1, "data": {"opportunityId": opportunity_id, "toStageId": stage_id}}
    with tenant_context(connection.org):
        return InboundEvent.objects.create(org=connection.org, connection=connection,
                                           event_type="candidateStageChange",
                                           dedupe_key=body["token"], body=json.dumps(body))


def process(event) -> InboundEvent:
    process_inbound_event.apply(args=[event.pk], kwargs={"org_id": event.org_id})
    with tenant_context(event.org):
        event.refresh_from_db()
    return event


def test_a_mapped_stage_change_creates_an_invitation_from_the_opportunity(lever):
    connection, mapping, state = lever
    ada = next(o for o in state["opportunities"] if o["name"] == "Ada Lovelace")
    event = process(stage_change(connection, ada["id"], mapping.stage_id))
    assert event.status == "processed" and "created" in event.outcome
    with tenant_context(connection.org):
        invitation = Invitation.objects.get()
        assert invitation.candidate.email == ada["emails"][0]
        assert invitation.candidate.first_name == "Ada"
        assert [t.catalog_test.slug for t in invitation.tests.all()] == ["big-five-mini-ipip-20"]
    assert invitation.source == "lever" and invitation.sandbox is True
    assert invitation.source_ref["opportunity_id"] == ada["id"]
    assert invitation.source_ref["connection_id"] == str(connection.public_id)


def test_the_same_stage_change_five_times_makes_one_invitation(lever):
    connection, mapping, state = lever
    ada = state["opportunities"][0]
    outcomes = [process(stage_change(connection, ada["id"], mapping.stage_id)).outcome
                for _ in range(5)]
    with tenant_context(connection.org):
        assert Invitation.objects.count() == 1
    assert sum("already open" in o for o in outcomes) == 4


def test_an_unmapped_stage_is_recorded_and_does_nothing(lever):
    connection, _, state = lever
    event = process(stage_change(connection, state["opportunities"][0]["id"], "other-stage"))
    assert event.status == "processed" and "not mapped" in event.outcome
    with tenant_context(connection.org):
        assert Invitation.objects.count() == 0


def test_a_deleted_opportunity_is_recorded_not_retried(lever):
    connection, mapping, _ = lever
    event = process(stage_change(connection, "no-such-opportunity", mapping.stage_id))
    assert event.status == "processed" and "no longer exists" in event.outcome


def test_an_opportunity_without_email_gets_no_invitation(lever, fake_lever):
    connection, mapping, state = lever
    created = control(fake_lever, "POST", "opportunities", name="No Mail", emails=[])
    opportunity = created.get("data", created)["id"]
    event = process(stage_change(connection, opportunity, mapping.stage_id))
    assert "no email" in event.outcome
    with tenant_context(connection.org):
        assert Invitation.objects.count() == 0


def test_a_posting_filter_that_does_not_match_skips_the_mapping(lever):
    connection, mapping, state = lever
    with tenant_context(connection.org):
        StageMapping.objects.filter(pk=mapping.pk).update(posting_id="another-posting")
    event = process(stage_change(connection, state["opportunities"][0]["id"], mapping.stage_id))
    assert "posting does not match" in event.outcome


def test_an_ats_outage_leaves_the_event_pending_for_a_retry(lever, fake_lever):
    connection, mapping, state = lever
    control(fake_lever, "POST", "faults", status=503, count=10, paths=r"/opportunities/")
    event = process(stage_change(connection, state["opportunities"][0]["id"], mapping.stage_id))
    assert event.status == "pending" and event.attempts == 1
    assert "will retry" in event.outcome
    with tenant_context(connection.org):
        connection.refresh_from_db()
    assert "503" in connection.last_error or "Transient" in connection.last_error


def test_a_completed_lever_test_is_owed_to_lever_in_the_same_transaction(lever):
    connection, mapping, state = lever
    process(stage_change(connection, state["opportunities"][0]["id"], mapping.stage_id))
    with tenant_context(connection.org):
        attempt = Invitation.objects.get().attempts.select_related(
            "invitation__candidate", "invitation_test__catalog_test").get()
        Invitation.objects.update(status="opened")
        attempt.invitation.refresh_from_db()
        layout = attempts.layout_for(attempt.invitation_test.catalog_test)
        attempts.start(attempt, layout)
        for number, page in enumerate(layout.pages, start=1):
            attempts.save_answers(attempt, layout, {item.id: "4" for item in page}, page=number)
        result = attempts.close(attempt)
        delivery = Delivery.objects.get(kind="lever.result")  # beside the tags (test_tags.py)
    assert delivery.kind == "lever.result" and delivery.connection_id == connection.pk
    assert delivery.key == f"result:{result.public_id}:lever:{connection.public_id}"
    assert delivery.payload["envelope"] == result.envelope
    assert delivery.payload["opportunity_id"] == state["opportunities"][0]["id"]
