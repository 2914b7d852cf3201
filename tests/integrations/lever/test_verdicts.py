"""A recruiter's verdict reaches Lever: the form's rating changes and a note is added, once."""

from __future__ import annotations

import json

import pytest

from assessments import attempts
from assessments.invitations import InvitationError, give_verdict
from assessments.models import Invitation
from integrations import outbox
from integrations.models import Connection, Delivery, InboundEvent
from integrations.tasks import process_inbound_event
from tenants.context import platform_context, tenant_context
from tenants.models import Membership
from tests.integrations.lever.conftest import connect_to_fake, control

pytestmark = pytest.mark.django_db


@pytest.fixture
def completed(fake_lever, org_a):
    """A Lever invitation completed, its result delivered to the fake as a feedback form."""
    connection, mapping, state = connect_to_fake(fake_lever, org_a)
    opportunity = state["opportunities"][0]["id"]
    with tenant_context(org_a):
        event = InboundEvent.objects.create(
            org=org_a, connection=connection, event_type="candidateStageChange",
            dedupe_key="t1", body=json.dumps({"data": {"opportunityId": opportunity,
                                                       "toStageId": mapping.stage_id}}))
    process_inbound_event.apply(args=[event.pk], kwargs={"org_id": org_a.pk})
    with tenant_context(org_a):
        invitation = Invitation.objects.get()
        Invitation.objects.update(status="opened")
        attempt = invitation.attempts.select_related(
            "invitation__candidate", "invitation_test__catalog_test").get()
        attempt.invitation.refresh_from_db()
        layout = attempts.layout_for(attempt.invitation_test.catalog_test)
        attempts.start(attempt, layout)
        for number, page in enumerate(layout.pages, start=1):
            attempts.save_answers(attempt, layout, {item.id: "4" for item in page}, page=number)
        attempts.close(attempt)
        for delivery in Delivery.objects.filter(kind="lever.result"):
            outbox.attempt(delivery.pk)
        invitation.refresh_from_db()
    return invitation, connection, opportunity


def _deliver_verdicts(org):
    with tenant_context(org):
        for delivery in Delivery.objects.filter(kind="lever.verdict", status="pending"):
            outbox.attempt(delivery.pk)
        return list(Delivery.objects.filter(kind="lever.verdict").order_by("pk"))


def _rating(fake_lever, opportunity):
    state = control(fake_lever, "GET", "state")
    [form] = [f for f in state["feedback"] if f["opportunityId"] == opportunity]
    notes = [n["fields"][0]["value"] for n in state["notes"] if n["opportunityId"] == opportunity]
    rating = next(f["value"] for f in form["fields"] if f["text"] == "Assessment rating")
    return rating, [n for n in notes if n.startswith("Assay verdict")], form


def test_a_thumbs_up_sets_the_rating_and_adds_one_note(fake_lever, completed):
    invitation, connection, opportunity = completed
    assert _rating(fake_lever, opportunity)[0] is None
    with tenant_context(connection.org):
        assert give_verdict(invitation, "up") is True
    [delivery] = _deliver_verdicts(connection.org)
    assert delivery.status == "delivered"
    rating, notes, form = _rating(fake_lever, opportunity)
    assert rating == "3 - Hire" and len(notes) == 1 and "thumbs up" in notes[0]
    # The other fields were sent along unchanged.
    assert any(f["text"] == "Report" and f["value"] for f in form["fields"])
    with tenant_context(connection.org):
        Delivery.objects.filter(pk=delivery.pk).update(status="pending")
    _deliver_verdicts(connection.org)
    assert len(_rating(fake_lever, opportunity)[1]) == 1  # a retry writes no second note


def test_a_changed_verdict_ends_on_the_latest_decision(fake_lever, completed):
    invitation, connection, opportunity = completed
    with tenant_context(connection.org):
        give_verdict(invitation, "up")
        give_verdict(invitation, "down")
        assert give_verdict(invitation, "down") is False  # unchanged: nothing new to send
    deliveries = _deliver_verdicts(connection.org)
    assert [d.status for d in deliveries] == ["delivered", "delivered"]
    rating, notes, _ = _rating(fake_lever, opportunity)
    assert rating == "2 - No Hire"
    assert len(notes) == 2


def test_a_verdict_waits_for_the_result_form(fake_lever, completed):
    invitation, connection, opportunity = completed
    control(fake_lever, "POST", "reset")  # Lever no longer has the form
    tokens = control(fake_lever, "POST", "tokens")
    with tenant_context(connection.org):
        Connection.objects.filter(pk=connection.pk).update(
            credentials=json.dumps({"access_token": tokens["access_token"]}))
        give_verdict(invitation, "up")
    [delivery] = _deliver_verdicts(connection.org)
    assert delivery.status == "pending" and "not in Lever yet" in delivery.last_error


def test_only_completed_invitations_take_a_verdict(org_a):
    from tests.rls_rows import invitation as make_invitation

    with tenant_context(org_a):
        invitation = make_invitation(org_a)
        with pytest.raises(InvitationError, match="completed"):
            give_verdict(invitation, "up")
        invitation.status = "completed"
        with pytest.raises(InvitationError, match="verdict must be"):
            give_verdict(invitation, "maybe")


def test_the_console_action_records_the_verdict(client, completed):
    invitation, connection, _ = completed
    with platform_context("test"):
        owner = Membership.objects.get(org=connection.org, role="owner").user
    client.force_login(owner)
    response = client.post("/admin/assessments/invitation/", {
        "action": "thumbs_down", "_selected_action": [invitation.pk]})
    assert response.status_code == 302
    with tenant_context(connection.org):
        invitation.refresh_from_db()
        assert Delivery.objects.filter(kind="lever.verdict").count() == 1
    assert invitation.verdict == "down" and invitation.verdict_by == owner
