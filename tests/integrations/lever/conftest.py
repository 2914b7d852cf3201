"""Shared fixtures for Lever tests: the fake Lever on a free port, and its control API."""

from __future__ import annotations

import pytest
import requests

from integrations.providers.lever.fake import run_fake_lever


@pytest.fixture
def fake_lever():
    server = run_fake_lever()
    yield server
    server.stop()


def control(server, verb: str, path: str, **body):
    """Call the fake's /_control API (state, tokens, faults, opportunities...)."""
    response = requests.request(verb, f"{server.url}/_control/{path}", json=body or None,
                                timeout=10)
    response.raise_for_status()
    return response.json() if response.content else None


def connect_to_fake(server, org, tests=("big-five-mini-ipip-20",), stage="Phone Screen"):
    """An active sandbox Connection to the fake (minted token, perform_as its first user) with
    `stage` mapped to `tests`; returns (connection, mapping, fake state)."""
    import json

    from integrations.models import Connection, StageMapping
    from tenants.context import tenant_context
    from tests.rls_rows import catalog_test

    for slug in tests:
        catalog_test(slug)
    state = control(server, "GET", "state")
    tokens = control(server, "POST", "tokens")
    mapped = next(s for s in state["stages"] if s["text"] == stage)
    with tenant_context(org):
        connection = Connection.objects.create(
            org=org, provider="lever", status="active", is_sandbox=True,
            credentials=json.dumps({"access_token": tokens["access_token"]}),
            config={"api_url": server.api_url, "perform_as": state["users"][0]["id"]})
        mapping = StageMapping.objects.create(org=org, connection=connection,
                                              stage_id=mapped["id"], stage_name=mapped["text"],
                                              tests=list(tests))
    return connection, mapping, state
