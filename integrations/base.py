"""The one interface every ATS sits behind (DESIGN §2 "The one interface", STYLE §6).

An adapter is built per connection (`registry.adapter(connection)`). It turns our events into
what the ATS is owed — `Outgoing` items the shared hooks write to the outbox in the transaction
that made the change — and delivers them when a worker calls `deliver(delivery)`. Inbound, a
provider either receives signed webhooks (Lever: `integrations/webhooks.py`) or serves partner
endpoints (its own `views.py`/`urls.py`, authenticated by `partner_keys` and creating
invitations through `integrations.partner`). Nothing outside `integrations/providers/<key>/`
knows an ATS's field names: payloads of `Outgoing` items are the provider's own business.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar

from .errors import PermanentProviderError
from .http import raise_for_response

# Capabilities an adapter may declare in `features` (the contract suite and the admin read them).
OAUTH = "oauth"                  # connected with an OAuth flow (Lever)
WEBHOOKS = "webhooks"            # the ATS sends signed webhooks to /integrations/<key>/<id>/webhook
PARTNER_API = "partner_api"      # the ATS calls our partner endpoints with a partner key
STAGE_MAPPINGS = "stage_mappings"  # the org maps ATS stages to tests in the console
VERDICTS = "verdicts"            # a recruiter's thumbs up/down is written back


@dataclass(frozen=True)
class Outgoing:
    """Something owed to the ATS: becomes Delivery(kind="<provider>.<what>", key=key)."""

    what: str
    key: str
    payload: dict


class ProviderAdapter:
    """Base of every provider's adapter; subclasses override the hooks they need."""

    key: ClassVar[str] = ""
    name: ClassVar[str] = ""
    features: ClassVar[frozenset[str]] = frozenset()
    # How the ATS presents our partner key (integrations.partner_keys.presented_keys scheme):
    # "basic-username", "basic-either" or "bearer"; None when the ATS does not call us that way.
    inbound_auth: ClassVar[str | None] = None
    # The credential the org admin enters for our calls to the ATS (stored encrypted in
    # Connection.credentials); None when there is none to enter (Greenhouse reuses our key).
    outbound_credential: ClassVar[str | None] = None
    outbound_credential_help: ClassVar[str] = ""
    # For the console: where the customer pastes our key and endpoint URLs in the ATS.
    setup_help: ClassVar[str] = ""
    # Partner endpoints to hand to the ATS: (label, URL name in the `integrations` namespace).
    endpoints: ClassVar[tuple[tuple[str, str], ...]] = ()

    def __init__(self, connection) -> None:
        self.connection = connection

    # -- events → outbox (no I/O: runs inside the transaction that made the change) ------------

    def on_status_changed(self, invitation, old_status: str | None,
                          new_status: str) -> list[Outgoing]:
        return []

    def on_result(self, result) -> list[Outgoing]:
        return []

    def on_verdict(self, invitation) -> list[Outgoing]:
        return []

    # -- outbox worker ------------------------------------------------------------------------

    def deliver(self, delivery) -> None:
        """Deliver one outbox row: `deliver_<what>` for kind "<provider>.<what>".

        Raise integrations.errors on failure (transient → retried, permanent → shown).
        """
        what = delivery.kind.partition(".")[2]
        handler = getattr(self, f"deliver_{what}", None)
        if handler is None:
            raise PermanentProviderError(f"{self.name} cannot deliver {delivery.kind!r}")
        handler(delivery)

    # -- errors -------------------------------------------------------------------------------

    @staticmethod
    def raise_for_response(response) -> None:
        """Map a failed HTTP response to transient (5xx, 429) vs permanent (4xx) vs auth."""
        raise_for_response(response)

    # -- console ------------------------------------------------------------------------------

    def endpoint_urls(self) -> list[tuple[str, str]]:
        """(label, absolute URL) of every partner endpoint to give the ATS."""
        from django.conf import settings
        from django.urls import reverse

        return [(label, f"{settings.SITE_URL}{reverse(f'integrations:{name}')}")
                for label, name in self.endpoints]

    def credential(self) -> str:
        """The outbound credential the admin entered ('' when none)."""
        stored = json.loads(self.connection.credentials) if self.connection.credentials else {}
        return str(stored.get("token") or "")

    def set_credential(self, value: str) -> None:
        stored = json.loads(self.connection.credentials) if self.connection.credentials else {}
        stored["token"] = value.strip()
        self.connection.credentials = json.dumps(stored)

    def on_key_issued(self, raw_key: str) -> None:
        """A new partner key was issued (shown once). Greenhouse presents the same key on its
        PATCH, so its adapter keeps an encrypted copy here; others need nothing."""
