"""The fake Lever on a free localhost port, driven by the real LeverClient.

Each test gets a fresh fake (port 0) and stops it at the end, with any webhook threads.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from integrations.errors import AuthError, PermanentProviderError, RateLimited
from integrations.providers.lever.client import LeverClient, LeverOAuthApp, TokenSet
from integrations.providers.lever.fake import (
    FAKE_API_KEY,
    FAKE_CLIENT_ID,
    FAKE_CLIENT_SECRET,
    FakeLeverServer,
    run_fake_lever,
)
from integrations.providers.lever.signatures import is_stale, verify

REDIRECT = "http://127.0.0.1:9/integrations/lever/callback"
TEMPLATE_FIELDS = [
    {"type": "score-system", "text": "Assessment rating", "required": False},
    {"type": "text", "text": "Extraversion", "required": False},
    {"type": "textarea", "text": "Summary", "required": False},
    {"type": "text", "text": "Report URL", "required": True},
]


@pytest.fixture
def server() -> Iterator[FakeLeverServer]:
    server = run_fake_lever("127.0.0.1", 0)
    yield server
    server.stop()


def control(server: FakeLeverServer, method: str, path: str, **kwargs: object) -> dict:
    response = requests.request(method, f"{server.url}/_control/{path}", timeout=5, **kwargs)
    assert response.status_code < 400, response.text
    return response.json() if response.content else {}


def app(server: FakeLeverServer) -> LeverOAuthApp:
    return LeverOAuthApp(FAKE_CLIENT_ID, FAKE_CLIENT_SECRET, auth_url=server.fake.base_url)


def connect(server: FakeLeverServer, **kwargs: object) -> tuple[LeverClient, TokenSet]:
    """Run the whole OAuth dance the way a browser would."""
    client = LeverClient(server.api_url, oauth=app(server), sleep=lambda s: None, **kwargs)
    page = requests.get(client.authorize_url("state-1", REDIRECT), timeout=5)
    assert page.status_code == 200 and 'id="approve"' in page.text
    fields = dict(parse_qs(urlsplit(client.authorize_url("state-1", REDIRECT)).query))
    decision = {k: v[0] for k, v in fields.items()} | {"decision": "approve"}
    answer = requests.post(
        f"{server.url}/oauth/authorize", data=decision, allow_redirects=False, timeout=5
    )
    assert answer.status_code == 302
    back = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert back["state"] == ["state-1"]
    return client, client.exchange_code(back["code"][0], REDIRECT)


def api_client(server: FakeLeverServer, **kwargs: object) -> LeverClient:
    return LeverClient(server.api_url, api_key=FAKE_API_KEY, sleep=lambda s: None, **kwargs)


def first_user(client: LeverClient) -> str:
    return next(client.list_users())["id"]


def opportunity_named(server: FakeLeverServer, name: str) -> dict:
    state = control(server, "GET", "state")
    return next(o for o in state["opportunities"] if o["name"] == name)


class Receiver:
    """A tiny local webhook endpoint that answers with queued statuses (default 200)."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.received: queue.Queue[tuple[dict, dict]] = queue.Queue()
        self.statuses = list(statuses or [])
        outer = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True

            def do_POST(self) -> None:  # noqa: N802 - http.server naming
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.received.put((dict(self.headers), json.loads(body)))
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("Location", "/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def get(self, timeout: float = 5) -> tuple[dict, dict]:
        return self.received.get(timeout=timeout)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


# -- OAuth ----------------------------------------------------------------------------------------


def test_oauth_code_exchange_then_refresh_rotation(server: FakeLeverServer) -> None:
    saved: list[TokenSet] = []
    client, first = connect(server, on_token_refresh=saved.append)
    assert first.refresh_token and first.expires_at
    assert [s["text"] for s in client.list_stages()][:2] == ["New lead", "Reached out"]

    second = client.refresh_access_token()
    assert second.refresh_token != first.refresh_token
    assert saved == [second]
    assert client.list_stages()  # the new access token works

    with pytest.raises(AuthError) as info:  # the spent refresh token is refused
        client.refresh(first.refresh_token)
    assert info.value.code == "invalid_grant"


def test_an_authorization_code_works_once(server: FakeLeverServer) -> None:
    client = LeverClient(server.api_url, oauth=app(server))
    params = {
        k: v[0] for k, v in parse_qs(urlsplit(client.authorize_url("s", REDIRECT)).query).items()
    }
    answer = requests.post(
        f"{server.url}/oauth/authorize",
        data=params | {"decision": "approve"},
        allow_redirects=False,
        timeout=5,
    )
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    client.exchange_code(code, REDIRECT)
    with pytest.raises(AuthError):
        client.exchange_code(code, REDIRECT)


def test_denying_consent_redirects_with_access_denied(server: FakeLeverServer) -> None:
    client = LeverClient(server.api_url, oauth=app(server))
    params = {
        k: v[0] for k, v in parse_qs(urlsplit(client.authorize_url("s-9", REDIRECT)).query).items()
    }
    answer = requests.post(
        f"{server.url}/oauth/authorize",
        data=params | {"decision": "deny"},
        allow_redirects=False,
        timeout=5,
    )
    back = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert back["error"] == ["access_denied"] and back["state"] == ["s-9"]


def test_a_wrong_audience_is_refused(server: FakeLeverServer) -> None:
    wrong = LeverOAuthApp(
        FAKE_CLIENT_ID, FAKE_CLIENT_SECRET, auth_url=server.fake.base_url, audience=server.api_url
    )  # no trailing slash
    url = LeverClient(server.api_url, oauth=wrong).authorize_url("s", REDIRECT)
    page = requests.get(url, timeout=5)
    assert page.status_code == 400 and "audience must be" in page.text


def test_no_offline_access_means_no_refresh_token(server: FakeLeverServer) -> None:
    body = control(server, "POST", "tokens", json={"scopes": ["stages:read:admin"]})
    assert "refresh_token" not in body


def test_bad_client_credentials_are_refused(server: FakeLeverServer) -> None:
    bad = LeverOAuthApp(FAKE_CLIENT_ID, "wrong", auth_url=server.fake.base_url)
    with pytest.raises(AuthError):
        LeverClient(server.api_url, oauth=bad).exchange_code("x", REDIRECT)


def test_an_expired_access_token_is_refreshed_on_401(server: FakeLeverServer) -> None:
    saved: list[TokenSet] = []
    client, first = connect(server, on_token_refresh=saved.append)
    control(server, "POST", "expire_tokens")
    assert client.list_stages()
    assert len(saved) == 1 and saved[0].refresh_token != first.refresh_token


def test_api_calls_need_a_valid_bearer_token(server: FakeLeverServer) -> None:
    response = requests.get(
        f"{server.api_url}/stages", timeout=5, headers={"Authorization": "Bearer nope"}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "UnauthorizedError"
    with pytest.raises(AuthError):
        LeverClient(server.api_url, "nope").list_stages()


def test_scopes_are_enforced(server: FakeLeverServer) -> None:
    tokens = control(server, "POST", "tokens", json={"scopes": ["stages:read:admin"]})
    client = LeverClient(server.api_url, tokens["access_token"])
    assert client.list_stages()
    with pytest.raises(PermanentProviderError) as info:
        client.list_feedback_templates()
    assert info.value.status_code == 403


# -- reads ----------------------------------------------------------------------------------------


def test_seed_data_and_expanded_opportunity(server: FakeLeverServer) -> None:
    client = api_client(server)
    assert len(list(client.list_postings())) == 2
    assert len(list(client.list_users())) == 2
    ada = opportunity_named(server, "Ada Lovelace")
    opp = client.get_opportunity(ada["id"])
    assert opp["emails"] == ["ada@example.com"]
    assert opp["stage"] == {"id": ada["stage"], "text": "New lead"}
    assert opp["applications"][0]["posting"] in {p["id"] for p in client.list_postings()}
    assert "assay" in opp["tags"]  # inherited from the posting
    assert opp["createdAt"] > 1_000_000_000_000  # milliseconds


def test_opportunity_pagination_and_filters(server: FakeLeverServer) -> None:
    client = api_client(server)
    control(
        server,
        "POST",
        "opportunities",
        json={"name": "Alan Turing", "emails": ["alan@example.com"]},
    )
    everyone = list(client.list_opportunities(limit=1))
    assert len(everyone) == 3 and len({o["id"] for o in everyone}) == 3
    screen = next(s for s in client.list_stages() if s["text"] == "Reached out")
    assert [o["name"] for o in client.list_opportunities(stage_id=screen["id"])] == ["Grace Hopper"]
    assert list(client.list_opportunities(updated_at_start=10**13)) == []
    assert [o["name"] for o in client.list_opportunities(email="alan@example.com")] == [
        "Alan Turing"
    ]


def test_an_unknown_offset_is_refused(server: FakeLeverServer) -> None:
    response = requests.get(
        f"{server.api_url}/stages", params={"offset": "bogus"}, auth=(FAKE_API_KEY, ""), timeout=5
    )
    assert response.status_code == 400


def test_unknown_opportunities_are_404(server: FakeLeverServer) -> None:
    from integrations.errors import NotFound

    with pytest.raises(NotFound):
        api_client(server).get_opportunity("00000000-0000-0000-0000-000000000000")


# -- feedback templates and forms -----------------------------------------------------------------


@pytest.mark.parametrize("count", [0, 2])
def test_templates_need_exactly_one_score_system_field(server: FakeLeverServer, count: int) -> None:
    fields = [{"type": "score-system", "text": f"r{i}"} for i in range(count)]
    response = requests.post(
        f"{server.api_url}/feedback_templates",
        auth=(FAKE_API_KEY, ""),
        json={"text": "T", "fields": [*fields, {"type": "text", "text": "x"}]},
        timeout=5,
    )
    assert response.status_code == 400
    assert "exactly one score-system" in response.json()["message"]


def test_template_lifecycle(server: FakeLeverServer) -> None:
    client = api_client(server)
    template = client.create_feedback_template("Assay — Big Five", TEMPLATE_FIELDS)
    rating = template["fields"][0]
    assert rating["type"] == "score-system" and rating["id"]
    assert [o["text"] for o in rating["options"]][1] == "3 - Hire"
    assert template["id"] in {t["id"] for t in client.list_feedback_templates()}
    assert client.get_feedback_template(template["id"])["text"] == "Assay — Big Five"
    client.delete_feedback_template(template["id"])
    seeded = client.list_feedback_templates()[0]
    with pytest.raises(PermanentProviderError) as info:  # created in the UI, not via the API
        client.delete_feedback_template(seeded["id"])
    assert info.value.status_code == 403


def test_feedback_rules_are_enforced(server: FakeLeverServer) -> None:
    client = api_client(server)
    user = first_user(client)
    opp = opportunity_named(server, "Ada Lovelace")["id"]
    template = client.create_feedback_template("Assay — Big Five", TEMPLATE_FIELDS)
    ids = [f["id"] for f in template["fields"]]
    good = {ids[1]: "66", ids[2]: "Extraversion: 66", ids[3]: "http://r/1"}

    raw = requests.post(
        f"{server.api_url}/opportunities/{opp}/feedback",
        auth=(FAKE_API_KEY, ""),
        json={"baseTemplateId": template["id"], "fieldValues": []},
        timeout=5,
    )
    assert raw.status_code == 400 and "perform_as" in raw.json()["message"]
    half_panel = {"baseTemplateId": template["id"], "fieldValues": [], "panel": "p1"}
    raw = requests.post(
        f"{server.api_url}/opportunities/{opp}/feedback",
        params={"perform_as": user},
        auth=(FAKE_API_KEY, ""),
        json=half_panel,
        timeout=5,
    )
    assert raw.status_code == 400 and "panel and interview" in raw.json()["message"]
    cases = [
        ({**good, "not-a-field": "x"}, "not a field"),
        ({**good, ids[0]: "3 - hire"}, "must be one of"),  # option text must match exactly
        ({ids[1]: "66"}, "is required"),
        ({**good, ids[1]: 66}, "must be a string"),
    ]
    for values, message in cases:
        with pytest.raises(PermanentProviderError, match=message):
            client.create_feedback(opp, template["id"], values, user)
    with pytest.raises(PermanentProviderError, match="perform_as"):
        client.create_feedback(opp, template["id"], good, "not-a-user")
    with pytest.raises(PermanentProviderError, match="baseTemplateId"):
        client.create_feedback(opp, "nope", good, user)


def test_feedback_create_and_verdict_update(server: FakeLeverServer) -> None:
    client = api_client(server)
    user = first_user(client)
    opp = opportunity_named(server, "Ada Lovelace")["id"]
    template = client.create_feedback_template("Assay — Big Five", TEMPLATE_FIELDS)
    ids = [f["id"] for f in template["fields"]]
    values = {ids[1]: "66", ids[2]: "Extraversion: 66", ids[3]: "http://r/1"}
    form = client.create_feedback(opp, template["id"], values, user)
    assert form["user"] == user and form["baseTemplateId"] == template["id"]
    assert {f["id"]: f["value"] for f in form["fields"]}[ids[0]] is None

    verdict = client.update_feedback(opp, form["id"], {**values, ids[0]: "3 - Hire"}, user)
    assert {f["id"]: f["value"] for f in verdict["fields"]}[ids[0]] == "3 - Hire"
    # Omitted fields are cleared (and required ones refused): always send every value.
    with pytest.raises(PermanentProviderError, match="is required"):
        client.update_feedback(opp, form["id"], {ids[0]: "2 - No Hire"}, user)
    assert [f["id"] for f in client.list_feedback(opp)] == [form["id"]]
    client.delete_feedback(opp, form["id"], user)
    assert client.list_feedback(opp) == []


def test_docs_shaped_responses_are_understood(server: FakeLeverServer, receiver: Receiver) -> None:
    control(server, "POST", "settings", json={"response_shape": "docs"})
    client = api_client(server)
    template = client.create_feedback_template("T", TEMPLATE_FIELDS[:1])
    assert template["id"] and template["fields"][0]["id"]
    raw = requests.post(
        f"{server.api_url}/webhooks",
        auth=(FAKE_API_KEY, ""),
        timeout=5,
        json={"url": receiver.url, "event": "candidateStageChange"},
    )
    assert "signatureToken" in raw.json()["data"]["data"]["configuration"]
    hook = client.create_webhook(receiver.url, "candidateStageChange")
    assert hook.signature_token and len(hook.signature_token) == 48
    opp = opportunity_named(server, "Ada Lovelace")["id"]
    form = client.create_feedback(opp, template["id"], {}, first_user(client))
    assert form["baseTemplateId"] == template["id"]


# -- notes, tags, state ---------------------------------------------------------------------------


def test_notes_tags_and_the_state_and_html_views(server: FakeLeverServer) -> None:
    client = api_client(server)
    opp = opportunity_named(server, "Grace Hopper")["id"]
    note_id = client.add_note(
        opp, "Assay: Big Five completed — report http://r/1", perform_as=first_user(client)
    )
    assert client.add_tags(opp, ["Assay: completed"])["tags"][-1] == "Assay: completed"
    client.remove_tags(opp, ["Assay: completed"])
    with pytest.raises(PermanentProviderError, match="value is required"):
        client.add_note(opp, "")
    with pytest.raises(PermanentProviderError, match="score"):
        client.add_note(opp, "x", score=9)
    state = control(server, "GET", "state")
    assert [n["id"] for n in state["notes"]] == [note_id]
    assert state["notes"][0]["fields"][0]["value"].startswith("Assay: Big Five")
    assert "Assay: completed" not in state["tags"][opp]
    page = requests.get(server.url + "/", timeout=5).text
    assert "Grace Hopper" in page and "Assay: Big Five completed" in page


def test_reset_restores_the_seed(server: FakeLeverServer) -> None:
    client = api_client(server)
    client.add_note(opportunity_named(server, "Ada Lovelace")["id"], "x")
    control(server, "POST", "reset")
    state = control(server, "GET", "state")
    assert state["notes"] == [] and len(state["opportunities"]) == 2
    control(server, "POST", "reset", json={"seed": False})
    assert control(server, "GET", "state")["opportunities"] == []


# -- webhooks -------------------------------------------------------------------------------------


def test_a_stage_move_fires_a_signed_documented_delivery(
    server: FakeLeverServer, receiver: Receiver
) -> None:
    client, _ = connect(server)
    hook = client.create_webhook(receiver.url, "candidateStageChange")
    assert [h.id for h in client.list_webhooks()] == [hook.id]
    assert client.list_webhooks()[0].signature_token is None  # shown only on create
    ada = opportunity_named(server, "Ada Lovelace")
    screen = next(s for s in client.list_stages() if s["text"] == "Phone Screen")

    moved = control(
        server, "POST", f"opportunities/{ada['id']}/stage", json={"stage_id": screen["id"]}
    )
    headers, body = receiver.get()
    assert headers["User-Agent"] == "Lever-Webhooks"
    assert not [h for h in headers if "signature" in h.lower()]  # in the body, not a header
    assert headers["Content-Type"] == "application/json"
    assert set(body) == {"id", "triggeredAt", "event", "data", "signature", "token"}
    assert body["event"] == "candidateStageChange" and len(body["token"]) == 48
    assert body["data"] == {
        "opportunityId": ada["id"],
        "candidateId": ada["id"],
        "contactId": ada["contact"],
        "toStageId": screen["id"],
        "fromStageId": ada["stage"],
    }
    assert verify(body, hook.signature_token)
    assert not is_stale(body)
    assert moved["data"]["deliveries"][0]["token"] == body["token"]
    assert client.get_opportunity(ada["id"])["stage"]["text"] == "Phone Screen"


def test_moving_through_the_api_also_fires(server: FakeLeverServer, receiver: Receiver) -> None:
    client = api_client(server)
    client.create_webhook(receiver.url, "candidateStageChange")
    opp = opportunity_named(server, "Ada Lovelace")["id"]
    offer = next(s for s in client.list_stages() if s["text"] == "Offer")
    client.put_json(f"/opportunities/{opp}/stage", json={"stage": offer["id"]})
    assert receiver.get()[1]["data"]["toStageId"] == offer["id"]


def test_unsigned_deliveries_and_replays(server: FakeLeverServer, receiver: Receiver) -> None:
    client = api_client(server)
    hook = client.create_webhook(receiver.url, "candidateStageChange")
    opp = opportunity_named(server, "Ada Lovelace")["id"]
    stage = client.list_stages()[3]["id"]
    control(server, "POST", f"opportunities/{opp}/stage", json={"stage_id": stage, "signed": False})
    _, unsigned = receiver.get()
    assert "signature" not in unsigned and not verify(unsigned, hook.signature_token)

    control(server, "POST", f"deliveries/{unsigned['token']}/redeliver")
    assert receiver.get()[1] == unsigned  # a replay is byte-for-byte the same event


def test_failed_deliveries_are_retried_with_the_same_token(server: FakeLeverServer) -> None:
    receiver = Receiver(statuses=[500, 302])  # a 3xx is a failure too
    try:
        control(server, "POST", "settings", json={"webhook_retry_delays": [0.05, 0.05, 0.05]})
        client = api_client(server)
        client.create_webhook(receiver.url, "candidateStageChange")
        opp = opportunity_named(server, "Ada Lovelace")["id"]
        control(
            server,
            "POST",
            f"opportunities/{opp}/stage",
            json={"stage_id": client.list_stages()[2]["id"]},
        )
        tokens = [receiver.get()[1]["token"] for _ in range(3)]
        assert len(set(tokens)) == 1
        server.fake.threads[-1].join(timeout=5)
        delivery = control(server, "GET", "state")["deliveries"][0]
        assert [a["status"] for a in delivery["attempts"]] == [500, 302, 200]
        assert delivery["status"] == "delivered"
    finally:
        receiver.close()


def test_the_test_button_sends_candidate_hired_with_empty_data(
    server: FakeLeverServer, receiver: Receiver
) -> None:
    client = api_client(server)
    hook = client.create_webhook(receiver.url, "candidateHired")
    control(server, "POST", f"webhooks/{hook.id}/test")
    _, body = receiver.get()
    assert body["event"] == "candidateHired" and body["data"] == {}
    assert verify(body, hook.signature_token)


def test_nothing_is_sent_until_the_webhook_group_is_enabled(
    server: FakeLeverServer, receiver: Receiver
) -> None:
    control(server, "POST", "settings", json={"webhook_groups": {"candidateStageChange": False}})
    client = api_client(server)
    client.create_webhook(receiver.url, "candidateStageChange")
    opp = opportunity_named(server, "Ada Lovelace")["id"]
    moved = control(
        server,
        "POST",
        f"opportunities/{opp}/stage",
        json={"stage_id": client.list_stages()[4]["id"]},
    )
    assert moved["data"]["deliveries"] == []
    with pytest.raises(queue.Empty):
        receiver.get(timeout=0.2)


def test_new_candidates_fire_application_created(
    server: FakeLeverServer, receiver: Receiver
) -> None:
    hook = api_client(server).create_webhook(receiver.url, "applicationCreated")
    created = control(server, "POST", "opportunities", json={"name": "Alan Turing"})["data"]
    _, body = receiver.get()
    assert body["data"] == {
        "applicationId": created["applications"][0],
        "opportunityId": created["id"],
    }
    assert verify(body, hook.signature_token)


def test_origin_conditions_filter_deliveries(server: FakeLeverServer, receiver: Receiver) -> None:
    client = api_client(server)
    client.create_webhook(receiver.url, "candidateStageChange", origins=["referred"])
    opp = opportunity_named(server, "Ada Lovelace")["id"]  # origin "applied"
    moved = control(
        server,
        "POST",
        f"opportunities/{opp}/stage",
        json={"stage_id": client.list_stages()[4]["id"]},
    )
    assert moved["data"]["deliveries"] == []


def test_webhook_validation_and_delete(server: FakeLeverServer, receiver: Receiver) -> None:
    client = api_client(server)
    with pytest.raises(PermanentProviderError, match="event must be one of"):
        client.create_webhook(receiver.url, "candidateMoved")
    with pytest.raises(PermanentProviderError, match="conditions are not supported"):
        client.create_webhook(receiver.url, "contactCreated", origins=["applied"])
    hook = client.create_webhook(receiver.url, "candidateStageChange")
    client.delete_webhook(hook.id)
    assert client.list_webhooks() == []


def test_remote_webhook_urls_are_not_called(server: FakeLeverServer) -> None:
    client = api_client(server)
    client.create_webhook("https://assay.example/hook", "candidateStageChange")
    opp = opportunity_named(server, "Ada Lovelace")["id"]
    control(
        server,
        "POST",
        f"opportunities/{opp}/stage",
        json={"stage_id": client.list_stages()[2]["id"]},
    )
    server.fake.threads[-1].join(timeout=5)
    delivery = control(server, "GET", "state")["deliveries"][0]
    assert delivery["attempts"][0]["error"] == "blocked"


# -- faults ---------------------------------------------------------------------------------------


def test_injected_503_is_retried_by_the_client(server: FakeLeverServer) -> None:
    sleeps: list[float] = []
    client = LeverClient(server.api_url, api_key=FAKE_API_KEY, sleep=sleeps.append)
    control(server, "POST", "faults", json={"status": 503, "count": 2, "paths": "^/v1/stages"})
    assert client.list_stages()
    assert len(sleeps) == 2
    assert control(server, "GET", "state")["faults"] == []


def test_injected_429_with_retry_after(server: FakeLeverServer) -> None:
    sleeps: list[float] = []
    client = LeverClient(server.api_url, api_key=FAKE_API_KEY, sleep=sleeps.append)
    control(server, "POST", "faults", json={"status": 429, "retry_after": 1, "count": 1})
    assert client.list_stages()
    assert sleeps == [1.0]
    control(
        server,
        "POST",
        "faults",
        json={"status": 429, "retry_after": 60, "count": 1, "method": "POST"},
    )
    with pytest.raises(RateLimited) as info:
        client.add_note(opportunity_named(server, "Ada Lovelace")["id"], "x")
    assert info.value.retry_after == 60.0


def test_faults_can_hit_the_token_endpoint(server: FakeLeverServer) -> None:
    client, tokens = connect(server)
    control(server, "POST", "faults", json={"status": 500, "paths": "^/oauth/token"})
    from integrations.errors import TransientProviderError

    with pytest.raises(TransientProviderError):
        client.refresh(tokens.refresh_token)
    assert client.refresh(tokens.refresh_token).refresh_token  # not rotated by the fault


def test_control_rejects_bad_fault_specs(server: FakeLeverServer) -> None:
    response = requests.post(f"{server.url}/_control/faults", json={"paths": "("}, timeout=5)
    assert response.status_code == 400
    response = requests.post(f"{server.url}/_control/settings", json={"nope": 1}, timeout=5)
    assert response.status_code == 400


def test_the_html_page_can_create_and_move_candidates(server: FakeLeverServer) -> None:
    posting = control(server, "GET", "state")["postings"][0]["id"]
    created = requests.post(
        f"{server.url}/_control/opportunities",
        timeout=5,
        data={"name": "Katherine Johnson", "emails": "kj@example.com", "posting": posting},
        allow_redirects=False,
    )
    assert created.status_code == 303
    kj = opportunity_named(server, "Katherine Johnson")
    stage = control(server, "GET", "state")["stages"][2]["id"]
    requests.post(
        f"{server.url}/_control/opportunities/{kj['id']}/stage", data={"stage_id": stage}, timeout=5
    )
    assert opportunity_named(server, "Katherine Johnson")["stage"] == stage
