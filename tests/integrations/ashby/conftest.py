"""Shared set-up for the Ashby adapter tests: a connection with a partner key, calls, fixtures."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "ashby"
TEST = "big-five-mini-ipip-20"
API = "https://api.ashby.test"  # a sandbox connection may call any host
API_KEY = "ashby-customer-api-key"


@dataclass
class Ashby:
    connection: object
    key: str  # the partner key Ashby presents to us


def basic(username: str, password: str = "") -> dict:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


def fixture(name: str, **replace: str) -> bytes:
    text = (FIXTURES / f"{name}.json").read_text()
    for key, value in replace.items():
        text = text.replace("{" + key + "}", value)
    return text.encode()


def fixture_json(name: str) -> dict:
    return json.loads(fixture(name))


def connect(org, *, api_url: str | None = API, sandbox: bool = True, api_key: str = API_KEY,
            name: str = "Ashby") -> Ashby:
    """An active Ashby connection with the customer's API key and one partner key."""
    from integrations import partner_keys, registry
    from integrations.models import Connection
    from tenants.context import tenant_context

    with tenant_context(org):
        connection = Connection(org=org, provider="ashby", status="active", is_sandbox=sandbox,
                                name=name, config={"api_url": api_url} if api_url else {})
        registry.adapter(connection).set_credential(api_key)
        connection.save()
        key = partner_keys.issue(connection)
    return Ashby(connection, key)


def call(client, method: str, body, key: str | None, *, field: str = "username",
         **extra):
    """POST /integrations/ashby/<method> with the key in the chosen Basic field."""
    auth = {} if key is None else (basic(key) if field == "username" else basic("", key))
    data = body if isinstance(body, bytes | str) else json.dumps(body)
    return client.post(f"/integrations/ashby/{method}", data=data,
                       content_type="application/json", **auth, **extra)


@pytest.fixture
def ashby(org_a):
    from integrations.providers.ashby import throttle
    from tests.rls_rows import catalog_test

    catalog_test(TEST)
    throttle.clear()
    yield connect(org_a)
    throttle.clear()
