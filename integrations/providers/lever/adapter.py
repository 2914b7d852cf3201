"""Lever behind our provider interface: a client per connection, and stage changes → invitations.

Everything Lever-specific (field names, response shapes, token rotation) stays in this package;
the rest of Assay sees Connections, StageMappings, Invitations and Deliveries.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from config.redis import redis_client
from integrations.base import OAUTH, STAGE_MAPPINGS, VERDICTS, WEBHOOKS, Outgoing, ProviderAdapter
from integrations.errors import NotFound
from integrations.http import build_user_agent
from integrations.ratelimit import TokenBucket

from .client import LeverClient, LeverOAuthApp, TokenSet

log = logging.getLogger("integrations.lever")

# Invitations in these states are "open": a stage change for the same opportunity and mapping
# does not create another one.
OPEN_STATUSES = ("created", "sent", "opened", "started")


def api_url(connection) -> str:
    return connection.config.get("api_url") or settings.LEVER_API_URL


def oauth_app(connection) -> LeverOAuthApp:
    return LeverOAuthApp(
        client_id=connection.config.get("client_id") or settings.LEVER_CLIENT_ID,
        client_secret=connection.config.get("client_secret") or settings.LEVER_CLIENT_SECRET,
        auth_url=connection.config.get("auth_url") or settings.LEVER_AUTH_URL,
    )


def load_tokens(connection) -> dict:
    return json.loads(connection.credentials) if connection.credentials else {}


def save_tokens(connection, tokens: TokenSet) -> None:
    """Persist a rotated token pair at once: the old refresh token is already spent."""
    from integrations.models import Connection

    stored = load_tokens(connection)
    stored.update(access_token=tokens.access_token, expires_at=tokens.expires_at)
    if tokens.refresh_token:
        stored["refresh_token"] = tokens.refresh_token
    connection.credentials = json.dumps(stored)
    with transaction.atomic():
        Connection.objects.filter(pk=connection.pk).update(credentials=connection.credentials)


def client_for(connection, *, with_tokens: bool = True, **client_options) -> LeverClient:
    """The connection's LeverClient: its tokens (rotations persisted), its rate-limit bucket.

    `with_tokens=False` gives a client for the OAuth exchange itself; `client_options` go to
    LeverClient (e.g. shorter timeouts while an admin waits).
    """
    tokens = load_tokens(connection) if with_tokens else {}
    return LeverClient(
        api_url(connection),
        tokens.get("access_token"),
        refresh_token=tokens.get("refresh_token"),
        expires_at=tokens.get("expires_at"),
        api_key=tokens.get("api_key"),
        oauth=oauth_app(connection),
        on_token_refresh=lambda new: save_tokens(connection, new),
        user_agent=build_user_agent("1", settings.SITE_URL),
        rate_limiter=TokenBucket(redis_client()).limiter(f"lever:{connection.public_id}"),
        **client_options,
    )


@dataclass(frozen=True)
class Candidate:
    opportunity_id: str
    email: str
    first_name: str
    last_name: str
    posting_ids: tuple[str, ...]


def candidate_from(opportunity: dict) -> Candidate | None:
    """The person to invite, or None when Lever gives us no one to email."""
    emails = [e for e in opportunity.get("emails") or [] if isinstance(e, str) and "@" in e]
    if not emails or opportunity.get("isAnonymized"):
        return None
    first, _, last = (opportunity.get("name") or "").strip().partition(" ")
    postings = []
    for application in opportunity.get("applications") or []:
        posting = application.get("posting") if isinstance(application, dict) else None
        if isinstance(posting, dict):
            posting = posting.get("id")
        if posting:
            postings.append(str(posting))
    return Candidate(opportunity["id"], emails[0], first, last, tuple(postings))


def handle_stage_change(event) -> str:
    """Create invitations for a `candidateStageChange`; return what happened, for the admin."""
    data = json.loads(event.body)["data"]
    return stage_changed(event.connection, data["opportunityId"], data["toStageId"])


def stage_changed(connection, opportunity_id: str, stage_id: str, *,
                  opportunity: dict | None = None) -> str:
    """An opportunity entered `stage_id`: invite it for every matching mapping, once.

    The one path for webhooks and reconciliation (reconcile.py). `opportunity`, when the caller
    already holds it (from a list call, with applications expanded), saves the GET. Must run in
    a transaction: each mapping row is locked while its open invitations are checked and the new
    one created, so two deliveries of the same change processed at once make one invitation.
    """
    from assessments import packages
    from assessments.invitations import InvitationError, create_invitation
    from assessments.models import Invitation
    from integrations.models import StageMapping

    mappings = list(StageMapping.objects.filter(connection=connection, is_active=True,
                                                stage_id=stage_id).order_by("pk"))
    if not mappings:
        return f"stage {stage_id} is not mapped to tests"
    if opportunity is None:
        try:
            opportunity = client_for(connection).get_opportunity(opportunity_id)
        except NotFound:
            return f"opportunity {opportunity_id} no longer exists in Lever (deleted)"
    candidate = candidate_from(opportunity)
    if candidate is None:
        return f"opportunity {opportunity_id} has no email address (or is anonymized)"

    outcomes = []
    for mapping in mappings:
        if mapping.posting_id and mapping.posting_id not in candidate.posting_ids:
            outcomes.append(f"mapping {mapping.pk}: posting does not match")
            continue
        # Serialise per mapping: the check below and the insert must not interleave with a
        # concurrent delivery of the same stage change (another token, a retry, reconciliation).
        StageMapping.objects.select_for_update().filter(pk=mapping.pk).first()
        open_ones = Invitation.objects.filter(
            source="lever", status__in=OPEN_STATUSES,
            source_ref__connection_id=str(connection.public_id),
            source_ref__opportunity_id=candidate.opportunity_id,
            source_ref__mapping_id=mapping.pk)
        if open_ones.exists():
            outcomes.append(f"mapping {mapping.pk}: an invitation is already open")
            continue
        try:
            with transaction.atomic():
                invitation, _ = create_invitation(
                    connection.org, tests=packages.expand(connection.org, list(mapping.tests)),
                    source="lever",
                    candidate={"email": candidate.email, "first_name": candidate.first_name,
                               "last_name": candidate.last_name,
                               "external_id": candidate.opportunity_id},
                    source_ref={"connection_id": str(connection.public_id),
                                "opportunity_id": candidate.opportunity_id,
                                "mapping_id": mapping.pk, "stage_id": stage_id},
                    sandbox=connection.is_sandbox, expires_in_days=mapping.expires_in_days)
        except InvitationError as exc:
            outcomes.append(f"mapping {mapping.pk}: {exc}")
            continue
        outcomes.append(f"mapping {mapping.pk}: invitation {invitation.public_id} created")
        log.info("integrations.lever.invitation.created connection=%s opportunity=%s "
                 "invitation=%s", connection.public_id, candidate.opportunity_id,
                 invitation.public_id)
    return "; ".join(outcomes)


class LeverAdapter(ProviderAdapter):
    """Lever: OAuth + signed webhooks in; feedback forms, notes, tags and verdicts out.

    The work lives in this package's modules (connect, inbound, writeback, tags, verdicts,
    reconcile); this class is the thin part the rest of Assay calls.
    """

    key = "lever"
    name = "Lever"
    features = frozenset({OAUTH, WEBHOOKS, STAGE_MAPPINGS, VERDICTS})

    def _opportunity(self, invitation, what: str) -> str | None:
        opportunity = (invitation.source_ref or {}).get("opportunity_id")
        if not opportunity:
            log.warning("integrations.lever.no_opportunity invitation=%s: %s not written back",
                        invitation.public_id, what)
        return opportunity

    def on_status_changed(self, invitation, old_status, new_status) -> list[Outgoing]:
        from . import tags

        event = tags.event_for(old_status, new_status)
        opportunity = self._opportunity(invitation, "tag") if event else None
        tag = tags.tag_names(self.connection)[event] if opportunity else ""
        if not tag:
            return []  # no event, no opportunity, or the tag is switched off for this connection
        key = f"tags:{event}:{invitation.public_id}:lever:{self.connection.public_id}"
        return [Outgoing("tags", key, {"opportunity_id": opportunity, "add": [tag],
                                       "event": event})]

    def on_result(self, result) -> list[Outgoing]:
        opportunity = self._opportunity(result.invitation, f"result {result.public_id}")
        if not opportunity:
            return []
        key = f"result:{result.public_id}:lever:{self.connection.public_id}"
        return [Outgoing("result", key, {"envelope": result.envelope,
                                         "opportunity_id": opportunity})]

    def on_verdict(self, invitation) -> list[Outgoing]:
        opportunity = self._opportunity(invitation, "verdict")
        if not opportunity:
            return []
        key = f"verdict:{invitation.public_id}:{invitation.verdict_at.isoformat()}"
        by = invitation.verdict_by.get_full_name() or invitation.verdict_by.email \
            if invitation.verdict_by else ""
        return [Outgoing("verdict", key, {
            "invitation_id": str(invitation.public_id), "marker": key,
            "verdict": invitation.verdict, "by": by, "opportunity_id": opportunity,
            "result_ids": [str(r) for r in invitation.results.values_list("public_id",
                                                                            flat=True)]})]

    def deliver_result(self, delivery) -> None:
        from .writeback import deliver_result

        deliver_result(delivery)

    def deliver_verdict(self, delivery) -> None:
        from .verdicts import deliver_verdict

        deliver_verdict(delivery)

    def deliver_tags(self, delivery) -> None:
        from .tags import deliver_tags

        deliver_tags(delivery)

    def endpoint_urls(self) -> list[tuple[str, str]]:
        from .connect import webhook_url

        return [("Webhook URL (registered in Lever for you)", webhook_url(self.connection))]
