"""Greenhouse behind our provider interface: partner endpoints in, a PATCH out.

Greenhouse calls our four endpoints (views.py) with the org's partner key; what it is owed back
is only a nudge: a body-less PATCH to the `url` of each send_test when the invitation completes
and again after a recruiter's verdict, after which Greenhouse reads test_status itself. The
PATCH carries "the same Authorization: Basic header with the org key" (brief §3.3); partner keys
are stored hashed, so this adapter keeps the raw key encrypted when it is issued
(`on_key_issued`) and the admin has nothing to enter (`outbound_credential = None`).
"""

from __future__ import annotations

import json
import logging

from assessments.models import InvitationStatus
from integrations.base import PARTNER_API, VERDICTS, Outgoing, ProviderAdapter

log = logging.getLogger("integrations.greenhouse")


class GreenhouseAdapter(ProviderAdapter):
    key = "greenhouse"
    name = "Greenhouse"
    features = frozenset({PARTNER_API, VERDICTS})
    inbound_auth = "basic-username"  # the key as the Basic username, empty password
    outbound_credential = None
    outbound_credential_help = ("Nothing to enter: the completion PATCH to Greenhouse uses the "
                                "newest partner key issued here, kept encrypted.")
    setup_help = ("Give this key to your Greenhouse account manager, who enters it for your "
                  "account. The endpoint URLs below are registered with Greenhouse's partner "
                  "team (partners@greenhouse.io) once per Assay installation; Greenhouse only "
                  "calls HTTPS URLs.")
    endpoints = (
        ("list_tests URL", "greenhouse_list_tests"),
        ("send_test URL", "greenhouse_send_test"),
        ("test_status URL", "greenhouse_test_status"),
        ("response_error URL", "greenhouse_response_error"),
    )

    # -- keys -----------------------------------------------------------------------------------

    def on_key_issued(self, raw_key: str) -> None:
        """Keep the new key for the PATCH, and the one before it for a rotation's overlap.

        A connection marked "needs reconnect" (Greenhouse refused our key on a PATCH) is active
        again: the new key is the fix, and pending PATCHes use it on their next try.
        """
        from integrations.models import Connection, ConnectionStatus

        previous = self.credential()
        self.set_credential(raw_key)
        stored = json.loads(self.connection.credentials)
        if previous and previous != raw_key:
            stored["previous"] = previous
        else:
            stored.pop("previous", None)
        self.connection.credentials = json.dumps(stored)
        if self.connection.status == ConnectionStatus.NEEDS_RECONNECT:
            Connection.objects.filter(pk=self.connection.pk).update(
                status=ConnectionStatus.ACTIVE)
            self.connection.status = ConnectionStatus.ACTIVE

    def keys(self) -> list[str]:
        """The keys to present on the PATCH, newest first."""
        stored = json.loads(self.connection.credentials) if self.connection.credentials else {}
        found = [str(stored.get(name) or "") for name in ("token", "previous")]
        return list(dict.fromkeys(k for k in found if k))

    # -- events → outbox ------------------------------------------------------------------------

    def _assessments(self, invitation) -> list:
        from integrations.models import ExternalAssessment

        found = list(ExternalAssessment.objects.filter(connection=self.connection,
                                                       invitation=invitation).order_by("pk"))
        if not found:
            log.warning("integrations.greenhouse.no_assessment invitation=%s: nothing to PATCH",
                        invitation.public_id)
        return found

    def on_status_changed(self, invitation, old_status, new_status) -> list[Outgoing]:
        if new_status != InvitationStatus.COMPLETED:
            return []  # Greenhouse documents the PATCH for completed tests only
        return [Outgoing("patch", f"greenhouse.patch:{a.public_id}",
                         {"assessment_id": str(a.public_id), "reason": "completed"})
                for a in self._assessments(invitation)]

    def on_verdict(self, invitation) -> list[Outgoing]:
        """A verdict changes test_status's metadata: PATCH again so Greenhouse re-reads it."""
        if invitation.status != InvitationStatus.COMPLETED or invitation.verdict_at is None:
            return []
        when = invitation.verdict_at.isoformat()
        return [Outgoing("patch", f"greenhouse.patch:{a.public_id}:verdict:{when}",
                         {"assessment_id": str(a.public_id), "reason": "verdict",
                          "verdict": invitation.verdict})
                for a in self._assessments(invitation)]

    # -- outbox worker --------------------------------------------------------------------------

    def deliver_patch(self, delivery) -> None:
        from .callback import deliver_patch

        deliver_patch(self, delivery)
