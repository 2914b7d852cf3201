"""Shared set-up for the Workable tests: a connection with a partner key and a Workable token,
the recorded request bodies, and a helper to call our provider endpoints as Workable does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from integrations import partner_keys
from integrations.models import Connection
from integrations.providers.workable.adapter import WorkableAdapter
from tenants.context import tenant_context
from tests.rls_rows import catalog_test

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "workable"
TEST = "big-five-mini-ipip-20"
WORKABLE_TOKEN = "wk-issued-access-token"
BASE = "/integrations/workable"


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_bytes())


def connect(org, *, sandbox: bool = True, token: str = WORKABLE_TOKEN,
            status: str = "active") -> tuple[Connection, str]:
    """A Workable connection with the Workable token stored and a fresh partner key (returned)."""
    with tenant_context(org):
        connection = Connection(org=org, provider="workable", status=status,
                                is_sandbox=sandbox, name="Workable")
        if token:
            WorkableAdapter(connection).set_credential(token)
        connection.save()
        key = partner_keys.issue(connection)
    return connection, key


def bearer(key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def post(client, key: str | None, body, path: str = "/assessments", **extra):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    headers = bearer(key) if key else {}
    return client.post(BASE + path, data=data, content_type="application/json",
                       **headers, **extra)


def get(client, key: str | None, path: str = "/tests"):
    return client.get(BASE + path, **(bearer(key) if key else {}))


@pytest.fixture
def catalog(db):
    return catalog_test(TEST)


@pytest.fixture
def workable(org_a, catalog):
    """(connection, partner key) of a sandbox Workable connection of org_a."""
    return connect(org_a)
