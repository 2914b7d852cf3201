"""Shared set-up for the Greenhouse tests: a connection with an issued partner key, the recorded
request bodies, and calls to our endpoints the way Greenhouse makes them (Basic "<key>:")."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from integrations import partner_keys
from integrations.models import Connection
from tenants.context import tenant_context
from tests.rls_rows import catalog_test

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "greenhouse"
TEST = "big-five-mini-ipip-20"
BASE = "/integrations/greenhouse"
TAKE_HOME = "https://app.greenhouse.io/integrations/testing_partners/take_home_tests"
PATCH_URL = f"{TAKE_HOME}/12345"  # the url of send_test__full.json


def basic(username: str, password: str = "") -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


def fixture(name: str, **changes) -> dict:
    """A recorded body with our catalog's test id in place of the docs' "12345"."""
    body = json.loads((FIXTURES / f"{name}.json").read_text())
    if body.get("partner_test_id") == "12345":
        body["partner_test_id"] = TEST
    body.update(changes)
    return body


def connect(org, *, sandbox: bool = False, provider: str = "greenhouse") -> tuple[Connection, str]:
    """An active connection and its freshly issued partner key."""
    catalog_test(TEST)
    with tenant_context(org):
        connection = Connection.objects.create(org=org, provider=provider, status="active",
                                               is_sandbox=sandbox, name="Greenhouse")
        key = partner_keys.issue(connection)
        connection.refresh_from_db()
    return connection, key


@pytest.fixture
def greenhouse(org_a) -> tuple[Connection, str]:
    return connect(org_a)


@pytest.fixture
def sandbox(org_a) -> tuple[Connection, str]:
    return connect(org_a, sandbox=True)


def call(client, key: str | None, method: str, name: str, body=None, *, query: str = "",
         authorization: str | None = None, raw: bytes | str | None = None):
    """One call to our endpoint `name`; `authorization` overrides the Basic "<key>:" header."""
    headers = {}
    if authorization is not None:
        headers["HTTP_AUTHORIZATION"] = authorization
    elif key is not None:
        headers["HTTP_AUTHORIZATION"] = basic(key)
    data = raw if raw is not None else (b"" if body is None else json.dumps(body))
    path = f"{BASE}/{name}" + (f"?{query}" if query else "")
    return client.generic(method, path, data=data, content_type="application/json", **headers)


def send(client, key: str, body: dict, **kwargs):
    return call(client, key, "POST", "send_test", body, **kwargs)


def status(client, key: str, interview_id: str, **kwargs):
    from urllib.parse import urlencode

    return call(client, key, "GET", "test_status",
                query=urlencode({"partner_interview_id": interview_id}), **kwargs)
