"""Reconciliation: stage changes that no webhook announced are replayed, once, against the fake.

The fake Lever filters `GET /opportunities` by `advanced_at_start/_end` (its `lastAdvancedAt`),
`stage_id` and `archived`, like Lever; reconcile.py checks stage and archived again itself.
"""

from __future__ import annotations

import time

import pytest

from assessments.models import Invitation
from config.celery import app
from integrations import tasks
from integrations.models import Connection, InboundEvent, StageMapping
from integrations.providers.lever import reconcile
from integrations.providers.lever.fake import seed_id
from integrations.tasks import process_inbound_event
from tenants.context import tenant_context
from tests.integrations.lever.conftest import connect_to_fake, control

pytestmark = pytest.mark.django_db

TEST = "big-five-mini-ipip-20"
PHONE_SCREEN = seed_id("stage:Phone Screen")
ONSITE = seed_id("stage:On-site interview")
ADA, GRACE = seed_id("opp:ada"), seed_id("opp:grace")


@pytest.fixture
def lever(fake_lever, org_a):
    """A connection with no webhook registered in the fake: moves announce nothing."""
    connection, mapping, _ = connect_to_fake(fake_lever, org_a, tests=[TEST])
    assert mapping.stage_id == PHONE_SCREEN
    return connection, mapping


def move(server, opportunity, stage):
    control(server, "POST", f"opportunities/{opportunity}/stage", stage_id=stage)


def run(connection, **kwargs) -> reconcile.Outcome:
    with tenant_context(connection.org):
        connection.refresh_from_db()
        return reconcile.reconcile(connection, grace_ms=0, **kwargs)


def process_all(outcome, connection) -> list[InboundEvent]:
    for pk in outcome.replayed:
        process_inbound_event.apply(args=[pk], kwargs={"org_id": connection.org_id})
    with tenant_context(connection.org):
        return list(InboundEvent.objects.filter(pk__in=outcome.replayed))


def invitations(org) -> list[Invitation]:
    with tenant_context(org):
        return list(Invitation.objects.all())


def test_an_unannounced_stage_change_is_replayed_into_an_invitation(lever, fake_lever):
    connection, mapping = lever
    move(fake_lever, ADA, PHONE_SCREEN)
    assert control(fake_lever, "GET", "state")["deliveries"] == []  # no webhook announced it
    before = int(time.time() * 1000)
    outcome = run(connection)
    assert (outcome.listed, len(outcome.replayed), outcome.skipped) == (1, 1, 0)
    [event] = process_all(outcome, connection)
    assert event.status == "processed" and "created" in event.outcome
    assert event.dedupe_key.startswith(f"reconcile:{ADA}:{PHONE_SCREEN}:")
    [invitation] = invitations(connection.org)
    assert invitation.source_ref["opportunity_id"] == ADA
    assert invitation.source_ref["mapping_id"] == mapping.pk
    with tenant_context(connection.org):
        assert invitation.candidate.email == "ada@example.com"
        connection.refresh_from_db()
    assert connection.config["reconciled_at"] >= before


def test_the_first_run_looks_back_a_day_then_continues_from_the_last_run(lever):
    connection, _ = lever
    now = int(time.time() * 1000)
    first = run(connection, now_ms=now)
    assert first.window == (now - reconcile.LOOKBACK_MS, now)
    second = run(connection, now_ms=now + 600_000)
    assert second.window == (now - reconcile.OVERLAP_MS, now + 600_000)


def test_recent_changes_are_left_to_their_webhook(lever, fake_lever):
    connection, _ = lever
    move(fake_lever, ADA, PHONE_SCREEN)
    with tenant_context(connection.org):
        outcome = reconcile.reconcile(connection)  # default grace: two minutes
    assert outcome.listed == 0 and outcome.replayed == []


def test_an_opportunity_with_an_invitation_is_not_invited_again(lever, fake_lever):
    connection, _ = lever
    move(fake_lever, ADA, PHONE_SCREEN)
    process_all(run(connection), connection)
    [invitation] = invitations(connection.org)
    with tenant_context(connection.org):
        Invitation.objects.filter(pk=invitation.pk).update(status="completed")
        Connection.objects.filter(pk=connection.pk).update(config={
            **connection.config, "reconciled_at": None})
    # Finished (not open) still counts: a catch-up never invites someone a second time.
    again = run(connection)
    assert (again.listed, again.replayed, again.skipped) == (1, [], 1)
    assert len(invitations(connection.org)) == 1


def test_overlapping_runs_replay_a_change_once(lever, fake_lever):
    connection, _ = lever
    move(fake_lever, ADA, PHONE_SCREEN)
    first = run(connection)
    second = run(connection)  # before the first run's event was processed
    assert len(first.replayed) == 1 and second.replayed == [] and second.skipped == 1
    process_all(first, connection)
    assert len(invitations(connection.org)) == 1


def test_unmapped_stages_and_old_changes_are_not_replayed(lever, fake_lever):
    connection, _ = lever
    move(fake_lever, GRACE, ONSITE)  # not mapped
    outcome = run(connection)
    assert outcome.listed == 0 and outcome.replayed == []
    move(fake_lever, ADA, PHONE_SCREEN)
    later = run(connection, now_ms=int(time.time() * 1000) - 3_600_000)  # window ends before
    assert later.listed == 0


def test_a_mapping_for_another_posting_skips_the_opportunity(lever, fake_lever):
    connection, mapping = lever
    with tenant_context(connection.org):
        StageMapping.objects.filter(pk=mapping.pk).update(posting_id="another-posting")
    move(fake_lever, ADA, PHONE_SCREEN)
    outcome = run(connection)
    assert (outcome.listed, outcome.replayed, outcome.skipped) == (1, [], 1)


def test_without_mappings_nothing_is_asked_of_lever(lever, fake_lever):
    connection, mapping = lever
    with tenant_context(connection.org):
        StageMapping.objects.filter(pk=mapping.pk).update(is_active=False)
    control(fake_lever, "POST", "faults", status=500, count=5, paths=r"/opportunities")
    outcome = run(connection)
    assert outcome.listed == 0
    assert len(control(fake_lever, "GET", "state")["faults"]) == 1  # untouched


def test_lever_down_records_the_error_and_keeps_the_window(lever, fake_lever):
    connection, _ = lever
    control(fake_lever, "POST", "faults", status=503, count=10, paths=r"^/v1/opportunities$")
    result = tasks.reconcile_lever_connection.apply(args=[connection.pk],
                                                    kwargs={"org_id": connection.org_id}).get()
    assert result.startswith("failed")
    with tenant_context(connection.org):
        connection.refresh_from_db()
    assert "reconciliation" in connection.last_error
    assert "reconciled_at" not in connection.config


def test_the_task_reconciles_one_connection_in_its_org(lever, fake_lever, monkeypatch):
    connection, _ = lever
    move(fake_lever, ADA, PHONE_SCREEN)
    with tenant_context(connection.org):
        Connection.objects.filter(pk=connection.pk).update(config={
            **connection.config, "reconciled_at": int(time.time() * 1000) - 60_000})
    # The default grace would hide a change this recent: let the task see it.
    monkeypatch.setattr(reconcile, "GRACE_MS", 0)
    result = tasks.reconcile_lever_connection.apply(
        args=[connection.pk], kwargs={"org_id": connection.org_id}).get()
    assert "1 replayed" in result


def test_the_beat_task_fans_out_per_active_lever_connection(lever, org_b, monkeypatch):
    connection, _ = lever
    with tenant_context(org_b):
        other = Connection.objects.create(org=org_b, provider="lever", status="active",
                                          credentials="{}")
        Connection.objects.create(org=org_b, provider="lever", status="needs_reconnect",
                                  credentials="{}")
        Connection.objects.create(org=org_b, provider="lever", status="disconnected")
    sent = []
    monkeypatch.setattr(tasks.reconcile_lever_connection, "apply_async",
                        lambda args, kwargs: sent.append((args[0], kwargs["org_id"])))
    assert tasks.reconcile_lever() == 2
    assert sorted(sent) == sorted([(connection.pk, connection.org_id), (other.pk, org_b.pk)])


def test_beat_runs_reconciliation_every_ten_minutes():
    entry = app.conf.beat_schedule["integrations-reconcile-lever"]
    assert entry == {"task": "integrations.reconcile_lever", "schedule": 600.0}
