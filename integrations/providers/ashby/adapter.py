"""Ashby behind our provider interface: the thin part the rest of Assay calls.

Ashby calls our partner endpoints (views.py) with the partner key in either Basic field; we
answer at once and push progress and results with `assessment.update` through the outbox
(updates.py), authenticated with the customer's Ashby API key.
"""

from __future__ import annotations

from django.conf import settings

from integrations.base import PARTNER_API, VERDICTS, Outgoing, ProviderAdapter
from integrations.errors import PermanentProviderError
from integrations.partner import callback_url_problem

from . import updates
from .client import ASHBY_DOMAINS, PERMISSION, AshbyClient, raise_for_response


def api_url(connection) -> str:
    """Where assessment.update goes: the connection's override (sandbox: the fake) or Ashby."""
    return (connection.config.get("api_url") or settings.ASHBY_API_URL).rstrip("/")


class AshbyAdapter(ProviderAdapter):
    """Ashby: partner endpoints in; assessment.update (status, result, verdict) out."""

    key = "ashby"
    name = "Ashby"
    features = frozenset({PARTNER_API, VERDICTS})
    inbound_auth = "basic-either"
    outbound_credential = "Ashby API key"
    outbound_credential_help = (
        f"An Ashby API key with the {PERMISSION} permission (Ashby: Admin → Integrations → "
        "API keys). Assay sends it as the HTTP Basic username when it posts progress and "
        "results to Ashby (assessment.update).")
    setup_help = ("Give Ashby the base URL below and this key (Ashby's assessment partner set-up "
                  "for your account). Also enter your Ashby API key on this page, so Assay can "
                  "send progress and results back to Ashby.")
    endpoints = (
        ("assessment.list", "ashby_assessment_list"),
        ("assessment.start", "ashby_assessment_start"),
        ("assessment.cancel", "ashby_assessment_cancel"),
        ("assessment.customField.list (only if Ashby enables it)",
         "ashby_custom_field_list"),
    )

    def endpoint_urls(self) -> list[tuple[str, str]]:
        """The base URL Ashby asks for first (it appends /assessment.start etc.), then each."""
        urls = super().endpoint_urls()
        base = urls[0][1].rsplit("/", 1)[0]
        return [("Base URL (give this to Ashby)", base), *urls]

    def client(self) -> AshbyClient:
        url = api_url(self.connection)
        problem = callback_url_problem(self.connection, url, ASHBY_DOMAINS)
        if problem:
            raise PermanentProviderError(f"not calling Ashby at {url}: {problem}")
        return AshbyClient(url, self.credential())

    # -- events → outbox ----------------------------------------------------------------------

    def on_status_changed(self, invitation, old_status, new_status) -> list[Outgoing]:
        return updates.for_status(self.connection, invitation, new_status)

    def on_verdict(self, invitation) -> list[Outgoing]:
        return updates.for_verdict(self.connection, invitation)

    # -- outbox worker ------------------------------------------------------------------------

    def deliver_update(self, delivery) -> None:
        updates.deliver_update(delivery, self.client())

    def raise_for_response(self, response) -> None:
        raise_for_response(response)
