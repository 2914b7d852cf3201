"""Workable behind our provider interface: the thin part the rest of Assay calls.

Workable calls our provider endpoints (views.py) with our partner key as a Bearer token; we
PUT status changes and results to the `callback_url` it gave, with the token Workable issued
(callbacks.py). Workable has no verdict field (its `grade` is a status detail it takes only with
`completed`), so a recruiter's thumbs up/down is not written back.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from integrations.base import PARTNER_API, Outgoing, ProviderAdapter

from . import callbacks
from .client import raise_for_callback_response


class WorkableAdapter(ProviderAdapter):
    key = "workable"
    name = "Workable"
    features = frozenset({PARTNER_API})
    inbound_auth = "bearer"
    outbound_credential = "Workable access token"
    outbound_credential_help = (
        "The access token Workable issues when the Assay assessment integration is created in "
        "your Workable account. It is NOT the partner key you gave Workable: that one Workable "
        "sends to us; this one we send to Workable with each status change and result.")
    setup_help = ("In your Workable account, add Assay as the assessment provider with the base "
                  "URL below and this key as the token. Workable then issues its own access "
                  "token: paste it on this page as the Workable access token.")
    endpoints = (("Tests (GET)", "workable_tests"),
                 ("Assessments (POST)", "workable_assessments"))

    def on_status_changed(self, invitation, old_status, new_status) -> list[Outgoing]:
        return callbacks.owed(self.connection, invitation, old_status, new_status)

    def deliver_callback(self, delivery) -> None:
        callbacks.deliver(self, delivery)

    @staticmethod
    def raise_for_response(response) -> None:
        raise_for_callback_response(response)

    def base_url(self) -> str:
        """The one base URL Workable asks for: it appends /tests and /assessments itself."""
        return f"{settings.SITE_URL}{reverse('integrations:workable_tests').rpartition('/')[0]}"

    def endpoint_urls(self) -> list[tuple[str, str]]:
        return [("Base URL to enter in Workable", self.base_url()), *super().endpoint_urls()]
