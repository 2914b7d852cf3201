"""Greenhouse against the contract every adapter passes (tests/integrations/contract.py).

Greenhouse presents our partner key as the Basic username with an empty password; its "start"
is `POST send_test` (one invitation per application × test); the result delivery is the
body-less `PATCH <url>` with the same key, after which Greenhouse reads test_status.
"""

from __future__ import annotations

import base64
import json

import responses

from integrations.models import Connection
from tests.integrations.contract import Call, ProviderContract
from tests.integrations.greenhouse.conftest import BASE, PATCH_URL, basic, connect, fixture


def _post(name: str, body) -> Call:
    return Call("POST", f"{BASE}/{name}", body if isinstance(body, str) else json.dumps(body))


class TestGreenhouseContract(ProviderContract):
    provider = "greenhouse"
    unknown_statuses = (422,)  # an unknown partner_test_id, like any other invalid field
    result_kind = "greenhouse.patch"

    def connect(self, org) -> Connection:
        connection, key = connect(org)
        self.keys = {**getattr(self, "keys", {}), connection.pk: key}
        return connection

    def auth(self, connection) -> dict:
        return {"HTTP_AUTHORIZATION": basic(self.keys[connection.pk])}

    def bad_auths(self, connection) -> dict[str, dict]:
        key = self.keys[connection.pk]
        return {"missing": {},
                "bearer": {"HTTP_AUTHORIZATION": f"Bearer {key}"},
                "key as the password": {"HTTP_AUTHORIZATION": basic("", key)},
                "wrong key": {"HTTP_AUTHORIZATION": basic("assay_pk_wrong")},
                "not base64": {"HTTP_AUTHORIZATION": "Basic %%%"},
                "empty": {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(b":").decode()}}

    def fixture_calls(self, connection) -> dict[str, Call]:
        calls = {"list_tests": Call("GET", f"{BASE}/list_tests")}
        for name in ("send_test__full", "send_test__no_optional", "send_test__preferred_name",
                     "send_test__flat"):
            calls[name] = _post("send_test", fixture(name))
        calls["test_status"] = Call("GET", f"{BASE}/test_status?partner_interview_id=")  # below
        for name in ("response_error__example", "response_error__minimal"):
            calls[name] = _post("response_error", fixture(name))
        return calls

    def send(self, client, connection, call, auth=None):
        if call.path.endswith("partner_interview_id="):
            # test_status of the assessment the recorded send_test created.
            started = super().send(client, connection, self.start_call(connection), auth)
            interview = started.json()["partner_interview_id"]
            call = Call("GET", call.path + interview)
        return super().send(client, connection, call, auth)

    def start_call(self, connection) -> Call:
        return _post("send_test", fixture("send_test__full"))

    def malformed_call(self, connection) -> Call:
        return _post("send_test", "{not json")

    def unknown_call(self, connection) -> Call:
        return _post("send_test", fixture("send_test__full", partner_test_id="no-such-test"))

    def effects(self, connection) -> int:
        return len(self.invitations(connection))

    def mock_ats(self, rsps, connection, *, fail_with=None, headers=None) -> None:
        if fail_with:
            rsps.add(responses.PATCH, PATCH_URL, status=fail_with, headers=headers,
                     json={"errors": [{"message": f"HTTP {fail_with}"}]})
            return
        rsps.add(responses.PATCH, PATCH_URL, status=200)

    def check_result_requests(self, calls, delivery) -> None:
        [call] = calls
        request = call.request
        assert (request.method, request.url) == ("PATCH", PATCH_URL)
        key = self.keys[delivery.connection_id]
        assert request.headers["Authorization"] == basic(key)
        assert not request.body
        assert delivery.payload["reason"] == "completed"
