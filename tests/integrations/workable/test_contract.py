"""Workable against the contract every adapter passes (tests/integrations/contract.py).

Workable presents our partner key as a Bearer token; its "start" is `POST assessments` (one
invitation per `callback_url`); the result is the completed `PUT <callback_url>` with the token
Workable issued.
"""

from __future__ import annotations

import json
from base64 import b64encode

import responses

from assessments import models as assessment_models
from integrations.models import Connection
from tenants.context import tenant_context
from tests.integrations.contract import Call, ProviderContract
from tests.integrations.workable.conftest import BASE, TEST, WORKABLE_TOKEN, connect, fixture
from tests.rls_rows import catalog_test


def _post(body) -> Call:
    return Call("POST", f"{BASE}/assessments", body if isinstance(body, str) else json.dumps(body))


class TestWorkableContract(ProviderContract):
    provider = "workable"
    unknown_statuses = (422,)
    result_kind = "workable.callback"

    def connect(self, org) -> Connection:
        catalog_test(TEST)
        connection, key = connect(org)
        with tenant_context(org):
            assessment_models.TestPackage.objects.create(org=org, name="Engineering",
                                                         slug="engineering", tests=[TEST])
        self.keys = {**getattr(self, "keys", {}), connection.pk: key}
        self.connection = connection
        return connection

    def auth(self, connection) -> dict:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.keys[connection.pk]}"}

    def bad_auths(self, connection) -> dict[str, dict]:
        key = self.keys[connection.pk]
        return {"missing": {}, "wrong key": {"HTTP_AUTHORIZATION": "Bearer assay_pk_wrong"},
                "basic": {"HTTP_AUTHORIZATION": "Basic " + b64encode(f"{key}:".encode()).decode()},
                "the Workable token": {"HTTP_AUTHORIZATION": f"Bearer {WORKABLE_TOKEN}"}}

    def fixture_calls(self, connection) -> dict[str, Call]:
        return {"tests": Call("GET", f"{BASE}/tests"),
                **{name: _post(fixture(name)) for name in (
                    "assessments__full", "assessments__no_optional", "assessments__package")}}

    def start_call(self, connection) -> Call:
        return _post(fixture("assessments__full"))

    def malformed_call(self, connection) -> Call:
        return _post("{not json")

    def unknown_call(self, connection) -> Call:
        return _post({**fixture("assessments__full"), "test_id": "no-such-test"})

    def effects(self, connection) -> int:
        return len(self.invitations(connection))

    def mock_ats(self, rsps, connection, *, fail_with=None, headers=None) -> None:
        url = fixture("assessments__full")["callback_url"]
        if fail_with:
            rsps.add(responses.PUT, url, status=fail_with, headers=headers,
                     json={"status": fail_with, "message": f"HTTP {fail_with}"})
            return
        rsps.add(responses.PUT, url, json={})

    def check_result_requests(self, calls, delivery) -> None:
        [call] = calls
        request = call.request
        assert request.method == "PUT"
        assert request.url == fixture("assessments__full")["callback_url"]
        assert request.headers["Authorization"] == f"Bearer {WORKABLE_TOKEN}"
        body = json.loads(request.body)
        assert body == delivery.payload["body"] and body["status"] == "completed"
        invitation = self.invitations(self.connection)[-1]
        assert body["results_url"].endswith(f"/r/{invitation.public_id}")
        assert body["assessment"]["details"] and body["assessment"]["duration"]
