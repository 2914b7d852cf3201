"""Reconciliation: stage changes that no webhook announced (DESIGN §2 flow 5).

Lever gives up on a webhook after five tries, and sends nothing at all until a Super Admin has
switched the webhook group on (brief §7.4, §7.6). So every 10 minutes (beat:
`integrations.reconcile_lever`, one `integrations.reconcile_lever_connection` per active Lever
connection) we list the opportunities that advanced since the connection's last run
(`GET /opportunities?advanced_at_start=…&stage_id=<mapped stages>&expand=applications`), keep
those whose current stage is mapped and that have no invitation at all for that opportunity ×
mapping (open or finished: a candidate who already took the tests is not invited again by a
catch-up), and replay each one as a stage change: an InboundEvent (dedupe key
`reconcile:<opportunity>:<stage>:<lastAdvancedAt>`, so overlapping runs replay it once) that
the ordinary worker processes with its retries, and the admin sees under Inbound events.

Window: from `config["reconciled_at"]` (ms) minus OVERLAP (clock skew between Lever and us) up
to now minus GRACE (a change that recent may still have its webhook in flight); the first run
looks back LOOKBACK (24 h). Lever filters by `advanced_at_*` and `stage_id`; the results are
checked again here (stage, archived) in case a server ignores a filter.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction

from .adapter import candidate_from, client_for

log = logging.getLogger("integrations.lever.reconcile")

LOOKBACK_MS = 24 * 3600 * 1000
OVERLAP_MS = 5 * 60 * 1000
GRACE_MS = 2 * 60 * 1000
MAX_REPLAYS = 500  # per run; the rest waits for the next run (the window does not advance)


@dataclass
class Outcome:
    listed: int = 0
    replayed: list[int] = field(default_factory=list)  # InboundEvent ids
    skipped: int = 0
    window: tuple[int, int] = (0, 0)

    def __str__(self) -> str:
        return (f"{self.listed} opportunities advanced into mapped stages, "
                f"{len(self.replayed)} replayed, {self.skipped} already invited")


def _stage_of(opportunity: dict) -> str | None:
    stage = opportunity.get("stage")
    if isinstance(stage, dict):
        stage = stage.get("id")
    return str(stage) if stage else None


def _has_invitation(connection, opportunity_id: str, mapping_ids: list[int]) -> bool:
    from assessments.models import Invitation

    return Invitation.objects.filter(
        source="lever", source_ref__connection_id=str(connection.public_id),
        source_ref__opportunity_id=opportunity_id,
        source_ref__mapping_id__in=mapping_ids).exists()


def reconcile(connection, *, now_ms: int | None = None, grace_ms: int | None = None) -> Outcome:
    """Replay unannounced stage changes of one connection; runs in its org's tenant context."""
    from integrations.models import InboundEvent, StageMapping
    from integrations.providers.lever import connect

    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    until = now_ms - (GRACE_MS if grace_ms is None else grace_ms)
    last = connection.config.get("reconciled_at")
    since = (int(last) - OVERLAP_MS) if isinstance(last, int | float) else until - LOOKBACK_MS
    outcome = Outcome(window=(since, until))
    mappings: dict[str, list] = {}
    for mapping in StageMapping.objects.filter(connection=connection, is_active=True):
        mappings.setdefault(mapping.stage_id, []).append(mapping)
    if not mappings:
        connect.update(connection, config={"reconciled_at": until})
        return outcome

    lever = client_for(connection)
    complete = True
    for opportunity in lever.list_opportunities(
            advanced_at_start=since, advanced_at_end=until, stage_id=sorted(mappings),
            archived=False, expand=("applications",)):
        stage = _stage_of(opportunity)
        if stage not in mappings or opportunity.get("archived"):
            continue
        outcome.listed += 1
        candidate = candidate_from(opportunity)
        relevant = [m.pk for m in mappings[stage] if candidate is None or not m.posting_id
                    or m.posting_id in candidate.posting_ids]
        if not relevant or _has_invitation(connection, str(opportunity["id"]), relevant):
            outcome.skipped += 1
            continue
        if len(outcome.replayed) >= MAX_REPLAYS:
            complete = False
            break
        advanced = opportunity.get("lastAdvancedAt") or now_ms
        body = {"event": "candidateStageChange", "token": f"reconcile:{opportunity['id']}:"
                f"{stage}:{advanced}", "triggeredAt": now_ms, "reconciled": True,
                "data": {"opportunityId": str(opportunity["id"]), "toStageId": stage}}
        try:
            with transaction.atomic():
                event = InboundEvent.objects.create(
                    org=connection.org, connection=connection, event_type=body["event"],
                    dedupe_key=body["token"][:200], body=json.dumps(body))
        except IntegrityError:
            outcome.skipped += 1  # replayed by an earlier, overlapping run
            continue
        outcome.replayed.append(event.pk)
        transaction.on_commit(lambda pk=event.pk: _enqueue(pk, connection.org_id))
        log.info("integrations.lever.reconcile.replay connection=%s opportunity=%s stage=%s",
                 connection.public_id, opportunity["id"], stage)
    if complete:
        connect.update(connection, config={"reconciled_at": until})
    log.info("integrations.lever.reconcile.done connection=%s: %s", connection.public_id,
             outcome)
    return outcome


def _enqueue(event_id: int, org_id: int) -> None:
    from integrations.tasks import process_inbound_event

    process_inbound_event.apply_async(args=[event_id], kwargs={"org_id": org_id})
