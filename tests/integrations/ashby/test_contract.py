"""Ashby against the contract every adapter passes (tests/integrations/contract.py).

Ashby presents our partner key in HTTP Basic (either field); its start is `assessment.start`;
the result reaches Ashby as the "completed" `assessment.update` delivery.
"""

from __future__ import annotations

import base64
import json

import responses

from assessments.models import Invitation
from integrations.providers.ashby import throttle
from tenants.context import tenant_context
from tests.integrations.ashby.conftest import (
    API,
    API_KEY,
    TEST,
    basic,
    connect,
    fixture,
)
from tests.integrations.contract import Call, ProviderContract
from tests.rls_rows import catalog_test

UPDATE_URL = f"{API}/assessment.update"
PATH = "/integrations/ashby/"


class TestAshbyContract(ProviderContract):
    provider = "ashby"
    unknown_statuses = (422,)
    result_kind = "ashby.update"

    def connect(self, org):
        catalog_test(TEST)
        throttle.clear()
        ashby = connect(org)
        self.keys = {**getattr(self, "keys", {}), ashby.connection.pk: ashby.key}
        return ashby.connection

    def auth(self, connection):
        return basic(self.keys[connection.pk])

    def bad_auths(self, connection):
        key = self.keys[connection.pk]
        return {"missing": {}, "wrong key": basic("assay_pk_wrong"),
                "empty basic": basic("", ""), "bearer": {"HTTP_AUTHORIZATION": f"Bearer {key}"}}

    def fixture_calls(self, connection):
        calls = {"assessment.list": Call("POST", PATH + "assessment.list",
                                         fixture("assessment_list")),
                 "assessment.customField.list": Call("POST", PATH + "assessment.customField.list",
                                                     b"{}")}
        for name in ("assessment_start__full", "assessment_start__no_optional",
                     "assessment_start__lead_additional_fields"):
            calls[name] = Call("POST", PATH + "assessment.start", fixture(name))
        return calls

    def start_call(self, connection):
        return Call("POST", PATH + "assessment.start", fixture("assessment_start__full"))

    def malformed_call(self, connection):
        return Call("POST", PATH + "assessment.start", b'{"assessment_type_id": ')

    def unknown_call(self, connection):
        body = json.loads(fixture("assessment_start__full"))
        body["assessment_type_id"] = "no-such-test"
        return Call("POST", PATH + "assessment.start", json.dumps(body))

    def effects(self, connection):
        with tenant_context(connection.org_id):
            return Invitation.objects.filter(
                source_ref__connection_id=str(connection.public_id)).count()

    def mock_ats(self, rsps, connection, *, fail_with=None, headers=None):
        if fail_with:
            rsps.add(responses.POST, UPDATE_URL, status=fail_with, headers=headers,
                     json={"success": False, "errors": [f"HTTP {fail_with}"]})
            return
        rsps.add(responses.POST, UPDATE_URL, json={"success": True})

    def check_result_requests(self, calls, delivery):
        [sent] = calls
        request = sent.request
        assert request.method == "POST" and request.url == UPDATE_URL
        assert request.headers["Authorization"] == "Basic " + base64.b64encode(
            f"{API_KEY}:".encode()).decode()
        assert request.headers["Accept"] == "application/json; version=1"
        assert request.headers["User-Agent"].startswith("Assay/")
        body = json.loads(request.body)
        assert isinstance(body.pop("timestamp"), int)
        assert body == delivery.payload["body"]
        assert delivery.payload["event"] == "completed"
        assert body["assessment_result"]["type"] == "numeric_score"
        assert body["assessment_profile_url"]["type"] == "url"
