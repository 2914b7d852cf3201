"""Lever against the contract every adapter passes (tests/integrations/contract.py).

Lever authenticates in the body (an HMAC of token + triggeredAt), so `auth` here is the signing
secret and `send` signs the delivery; its "start" is a stored stage-change event (the worker turns
it into an invitation: covered in test_stage_change.py and the e2e test).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import responses

from assessments.invitations import create_invitation
from integrations.models import Connection, Delivery, InboundEvent
from integrations.providers.lever.signatures import sign
from tenants.context import tenant_context
from tests.integrations.contract import Call, ProviderContract, complete_invitation
from tests.rls_rows import catalog_test

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "lever" / "webhooks"
SECRET = "lever-contract-signature-token"
API = "https://api.lever.test/v1"
OPPORTUNITY = "opp-contract-1"
TEST = "big-five-mini-ipip-20"


def _fixture(name: str, **changes) -> dict:
    payload = json.loads((FIXTURES / f"{name}.json").read_bytes())
    payload.update(triggeredAt=int(time.time() * 1000), **changes)
    payload.pop("signature", None)
    return payload


class TestLeverContract(ProviderContract):
    provider = "lever"
    unknown_statuses = (200,)  # stored as ignored (Lever's Test button sends such events)
    result_kind = "lever.result"

    def connect(self, org):
        with tenant_context(org):
            return Connection.objects.create(
                org=org, provider="lever", status="active", webhook_secret=SECRET,
                credentials=json.dumps({"access_token": "lever-token"}),
                config={"api_url": API, "perform_as": "user-1"})

    def path(self, connection) -> str:
        return f"/integrations/lever/{connection.public_id}/webhook"

    def auth(self, connection):
        return {"secret": SECRET}

    def bad_auths(self, connection):
        return {"unsigned": {"secret": None}, "wrong secret": {"secret": "not-the-token"}}

    def send(self, client, connection, call, auth=None):
        secret = (self.auth(connection) if auth is None else auth).get("secret")
        body = call.body
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        if isinstance(payload, dict) and "token" in payload and secret is not None:
            payload["signature"] = sign(payload["token"], payload["triggeredAt"], secret)
            body = json.dumps(payload)
        return client.generic(call.method, call.path, data=body, content_type=call.content_type)

    def fixture_calls(self, connection):
        return {name: Call("POST", self.path(connection), json.dumps(_fixture(name)))
                for name in ("candidateStageChange__basic", "candidateHired__test_ping")}

    def start_call(self, connection):
        return Call("POST", self.path(connection),
                    json.dumps(_fixture("candidateStageChange__basic")))

    def malformed_call(self, connection):
        return Call("POST", self.path(connection), "{not json")

    def unknown_call(self, connection):
        return Call("POST", self.path(connection),
                    json.dumps(_fixture("candidateStageChange__basic", event="candidateDeleted",
                                        token="unknown-event-token")))

    def effects(self, connection):
        with tenant_context(connection.org_id):
            return InboundEvent.objects.filter(connection=connection, status="pending").count()

    def result_delivery(self, client, connection):
        catalog_test(TEST)
        invitation, _ = create_invitation(
            connection.org, tests=[TEST], source="lever", send_email=False,
            candidate={"email": "ada@example.com", "first_name": "Ada"},
            source_ref={"connection_id": str(connection.public_id),
                        "opportunity_id": OPPORTUNITY})
        complete_invitation(invitation)
        with tenant_context(connection.org_id):
            return Delivery.objects.get(connection=connection, kind=self.result_kind)

    def mock_ats(self, rsps, connection, *, fail_with=None, headers=None):
        base = f"{API}/opportunities/{OPPORTUNITY}"
        if fail_with:
            rsps.add(responses.GET, f"{base}/feedback", status=fail_with, headers=headers,
                     json={"code": "Error", "message": f"HTTP {fail_with}"})
            return
        empty = {"data": [], "hasNext": False}
        rsps.add(responses.GET, f"{base}/feedback", json=empty)
        rsps.add(responses.GET, f"{base}/notes", json=empty)

        def template(request):
            body = json.loads(request.body)
            fields = [{**f, "id": f"field-{i}"} for i, f in enumerate(body["fields"])]
            return 200, {}, json.dumps({"data": {"id": "template-1", "fields": fields}})

        rsps.add_callback(responses.POST, f"{API}/feedback_templates", callback=template)
        rsps.add(responses.POST, f"{base}/feedback", json={"data": {"id": "form-1"}})
        rsps.add(responses.POST, f"{base}/notes", json={"data": {"noteId": "note-1"}})

    def check_result_requests(self, calls, delivery):
        envelope = delivery.payload["envelope"]
        posted = {urlsplit(c.request.url).path.rsplit("/", 1)[-1]: c.request for c in calls
                  if c.request.method == "POST"}
        form = json.loads(posted["feedback"].body)
        assert form["baseTemplateId"] == "template-1"
        assert parse_qs(urlsplit(posted["feedback"].url).query)["perform_as"] == ["user-1"]
        values = {v["id"]: v["value"] for v in form["fieldValues"]}
        scores = [str(d["score"]) for d in envelope["dimensions"] if d["score"] is not None]
        assert scores and all(score in values.values() for score in scores)
        assert envelope["report_url"] in values.values()
        note = json.loads(posted["notes"].body)
        assert envelope["report_url"] in note["value"]
        assert all(c.request.headers["Authorization"] == "Bearer lever-token" for c in calls)
