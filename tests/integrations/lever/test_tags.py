"""Lever tags that follow a candidate: "Assay: invited" on invitation, "Assay: completed" when
every test is done; through the outbox, configurable per connection, against the fake Lever."""

from __future__ import annotations

import pytest
from django.db import transaction

from assessments import attempts
from assessments.invitations import create_invitation
from assessments.models import Invitation
from integrations import outbox
from integrations.models import Connection, Delivery
from integrations.providers.lever import tags
from integrations.providers.lever.adapter import stage_changed
from tenants.context import tenant_context
from tests.integrations.lever.conftest import connect_to_fake, control

pytestmark = pytest.mark.django_db

TEST = "big-five-mini-ipip-20"


@pytest.fixture
def lever(fake_lever, org_a):
    connection, mapping, state = connect_to_fake(fake_lever, org_a, tests=[TEST])
    ada = next(o for o in state["opportunities"] if o["name"] == "Ada Lovelace")
    return connection, mapping.stage_id, ada["id"]


def invite(connection, stage_id, opportunity) -> Invitation:
    with tenant_context(connection.org), transaction.atomic():
        outcome = stage_changed(connection, opportunity, stage_id)
    assert "created" in outcome, outcome
    with tenant_context(connection.org):
        return Invitation.objects.get()


def complete(invitation) -> None:
    with tenant_context(invitation.org):
        Invitation.objects.filter(pk=invitation.pk).update(status="opened")
        attempt = invitation.attempts.select_related(
            "invitation__candidate", "invitation_test__catalog_test").get()
        layout = attempts.layout_for(attempt.invitation_test.catalog_test)
        attempts.start(attempt, layout)
        for number, page in enumerate(layout.pages, start=1):
            attempts.save_answers(attempt, layout, {item.id: "3" for item in page}, page=number)
        attempts.close(attempt)


def tag_deliveries(org) -> list[Delivery]:
    with tenant_context(org):
        return list(Delivery.objects.filter(kind="lever.tags").order_by("pk"))


def deliver_all(org) -> None:
    with tenant_context(org):
        for delivery in Delivery.objects.filter(kind="lever.tags", status="pending"):
            outbox.attempt(delivery.pk)


def tags_in_lever(server, opportunity) -> list[str]:
    return control(server, "GET", "state")["tags"][opportunity]


def test_an_invitation_tags_the_opportunity_invited(lever, fake_lever):
    connection, stage, ada = lever
    invitation = invite(connection, stage, ada)
    [delivery] = tag_deliveries(connection.org)
    assert delivery.key == f"tags:invited:{invitation.public_id}:lever:{connection.public_id}"
    assert delivery.payload == {"opportunity_id": ada, "add": ["Assay: invited"],
                                "event": "invited"}
    assert delivery.connection_id == connection.pk
    deliver_all(connection.org)
    assert "Assay: invited" in tags_in_lever(fake_lever, ada)
    assert tag_deliveries(connection.org)[0].status == "delivered"


def test_completing_every_test_tags_the_opportunity_completed(lever, fake_lever):
    connection, stage, ada = lever
    invitation = invite(connection, stage, ada)
    deliver_all(connection.org)
    complete(invitation)
    deliveries = tag_deliveries(connection.org)
    assert [d.payload["event"] for d in deliveries] == ["invited", "completed"]
    deliver_all(connection.org)
    in_lever = tags_in_lever(fake_lever, ada)
    assert in_lever.count("Assay: invited") == 1 and in_lever.count("Assay: completed") == 1


def test_a_retried_tag_delivery_changes_nothing(lever, fake_lever):
    connection, stage, ada = lever
    invite(connection, stage, ada)
    deliver_all(connection.org)
    with tenant_context(connection.org):
        Delivery.objects.filter(kind="lever.tags").update(status="pending")
    deliver_all(connection.org)
    assert tags_in_lever(fake_lever, ada).count("Assay: invited") == 1


def test_tags_are_renamed_or_switched_off_per_connection(lever, fake_lever):
    connection, stage, ada = lever
    with tenant_context(connection.org):
        Connection.objects.filter(pk=connection.pk).update(config={
            **connection.config, "tags": {"invited": "Psychometrics sent", "completed": ""}})
        connection.refresh_from_db()
    invitation = invite(connection, stage, ada)
    complete(invitation)
    deliveries = tag_deliveries(connection.org)
    assert [d.payload["add"] for d in deliveries] == [["Psychometrics sent"]]
    deliver_all(connection.org)
    in_lever = tags_in_lever(fake_lever, ada)
    assert "Psychometrics sent" in in_lever and "Assay: completed" not in in_lever


def test_tag_names_default_and_ignore_nonsense():
    class C:
        config = {}

    assert tags.tag_names(C) == {"invited": "Assay: invited", "completed": "Assay: completed"}
    C.config = {"tags": {"invited": "  Sent  ", "completed": 7}}
    assert tags.tag_names(C) == {"invited": "Sent", "completed": "Assay: completed"}
    C.config = {"tags": "off"}
    assert tags.tag_names(C)["invited"] == "Assay: invited"


def test_invitations_from_elsewhere_get_no_lever_tags(lever, org_a):
    with tenant_context(org_a):
        create_invitation(org_a, candidate={"email": "api@example.com"}, tests=[TEST],
                          source="api", send_email=False)
    assert tag_deliveries(org_a) == []


def test_the_tag_is_owed_only_if_the_invitation_commits(lever):
    connection, stage, ada = lever
    with pytest.raises(RuntimeError), tenant_context(connection.org), transaction.atomic():
        stage_changed(connection, ada, stage)
        raise RuntimeError("the transaction that created the invitation fails")
    with tenant_context(connection.org):
        assert Invitation.objects.count() == 0
    assert tag_deliveries(connection.org) == []


def test_a_disconnected_connection_gets_no_tags(lever):
    connection, stage, ada = lever
    invitation = invite(connection, stage, ada)
    with tenant_context(connection.org):
        Delivery.objects.all().delete()
        Connection.objects.filter(pk=connection.pk).update(status="disconnected")
    complete(invitation)
    assert tag_deliveries(connection.org) == []


def test_without_a_lever_user_tags_are_still_added(lever, fake_lever):
    """perform_as is optional for tags (brief §2.4): no chosen user does not block them."""
    connection, stage, ada = lever
    with tenant_context(connection.org):
        Connection.objects.filter(pk=connection.pk).update(
            config={"api_url": connection.config["api_url"]})
        connection.refresh_from_db()
    invite(connection, stage, ada)
    deliver_all(connection.org)
    assert "Assay: invited" in tags_in_lever(fake_lever, ada)
