"""LeverClient against recorded responses (the ``responses`` library; no network)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import responses
from responses import matchers

from integrations.errors import (
    AuthError,
    NotFound,
    PermanentProviderError,
    ProviderError,
    RateLimited,
)
from integrations.providers.lever.client import (
    DEFAULT_SCOPES,
    SANDBOX_API_URL,
    LeverClient,
    LeverOAuthApp,
    TokenSet,
    field_values,
    to_millis,
    unwrap,
)

API = "https://api.lever.co/v1"
AUTH = "https://auth.lever.co"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "lever" / "api"
OPP = "250d8f03-738a-4bba-a671-8a3d73477145"
USER = "8d49b010-cc6a-4f40-ace5-e86061c677ed"
TEMPLATE = "5b0f589c-b0c2-4e84-bf83-0f2ca48fc48a"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def add(method: str, url: str, name: str, status: int = 200, **kwargs: object) -> None:
    responses.add(
        method, url, body=fixture(name), status=status, content_type="application/json", **kwargs
    )


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def app() -> LeverOAuthApp:
    return LeverOAuthApp("client-123", "secret-456", auth_url=AUTH)


@pytest.fixture
def client(app: LeverOAuthApp, sleeps: list[float]) -> LeverClient:
    return LeverClient(
        API,
        "access-1",
        refresh_token="refresh-1",
        oauth=app,
        sleep=sleeps.append,
        user_agent="Assay/test (+https://assay.example)",
    )


def form(call: responses.Call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


def query(call: responses.Call) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


# -- OAuth ----------------------------------------------------------------------------------------


def test_authorize_url_has_every_required_parameter(client: LeverClient) -> None:
    url = client.authorize_url("state-xyz", "https://assay.example/integrations/lever/callback")
    parts = urlsplit(url)
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{AUTH}/authorize"
    assert params == {
        "client_id": "client-123",
        "redirect_uri": "https://assay.example/integrations/lever/callback",
        "response_type": "code",
        "state": "state-xyz",
        "audience": "https://api.lever.co/v1/",  # trailing slash, API host (pitfall §7.10)
        "scope": " ".join(DEFAULT_SCOPES),
    }
    assert "offline_access" in params["scope"].split()


def test_sandbox_audience_follows_the_api_host() -> None:
    sandbox = LeverClient(SANDBOX_API_URL, oauth=LeverOAuthApp("c", "s"))
    params = parse_qs(urlsplit(sandbox.authorize_url("s", "https://x/cb", ["a"])).query)
    assert params["audience"] == ["https://api.sandbox.lever.co/v1/"]
    assert params["scope"] == ["a"]


@responses.activate
def test_exchange_code_posts_a_form_and_adopts_tokens(app: LeverOAuthApp) -> None:
    add("POST", f"{AUTH}/oauth/token", "token__authorization_code.json")
    client = LeverClient(API, oauth=app)
    tokens = client.exchange_code("code-abc", "https://assay.example/cb")
    sent = responses.calls[0].request
    assert sent.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "Authorization" not in sent.headers
    assert form(responses.calls[0]) == {
        "grant_type": "authorization_code",
        "client_id": "client-123",
        "client_secret": "secret-456",
        "code": "code-abc",
        "redirect_uri": "https://assay.example/cb",
    }
    assert tokens.refresh_token == "v1.MxFirstRefreshTokenFixture"
    assert tokens.expires_at == pytest.approx(time.time() + 3600, abs=5)
    assert client.access_token == tokens.access_token


@responses.activate
def test_refresh_returns_the_rotated_refresh_token(client: LeverClient) -> None:
    add("POST", f"{AUTH}/oauth/token", "token__refresh_rotated.json")
    tokens = client.refresh("refresh-1")
    assert form(responses.calls[0])["grant_type"] == "refresh_token"
    assert form(responses.calls[0])["refresh_token"] == "refresh-1"
    assert tokens.refresh_token == "v1.MxRotatedRefreshTokenFixture"  # pitfall §7.9


@responses.activate
def test_refresh_keeps_the_old_token_if_none_comes_back(client: LeverClient) -> None:
    responses.post(f"{AUTH}/oauth/token", json={"access_token": "a2", "expires_in": 3600})
    assert client.refresh("refresh-1").refresh_token == "refresh-1"


@responses.activate
def test_a_spent_refresh_token_is_an_auth_error(client: LeverClient) -> None:
    add("POST", f"{AUTH}/oauth/token", "token__invalid_grant.json", status=403)
    with pytest.raises(AuthError) as info:
        client.refresh("refresh-old")
    assert info.value.code == "invalid_grant"


@responses.activate
def test_the_token_call_is_not_repeated_on_a_5xx(client: LeverClient) -> None:
    # A refresh token may have rotated server-side before the 500: let the caller decide.
    responses.post(f"{AUTH}/oauth/token", status=500)
    with pytest.raises(ProviderError):
        client.refresh("refresh-1")
    assert len(responses.calls) == 1


@responses.activate
def test_401_refreshes_once_retries_and_persists_the_new_tokens(client: LeverClient) -> None:
    saved: list[TokenSet] = []
    client.on_token_refresh = saved.append
    stages = f"{API}/stages"
    responses.get(
        stages,
        status=401,
        json={"code": "UnauthorizedError", "message": "expired"},
        match=[matchers.header_matcher({"Authorization": "Bearer access-1"})],
    )
    add("POST", f"{AUTH}/oauth/token", "token__refresh_rotated.json")
    responses.get(stages, json={"data": [{"id": "s1", "text": "New lead"}], "hasNext": False})
    assert client.list_stages() == [{"id": "s1", "text": "New lead"}]
    assert [c.request.url.split("?")[0] for c in responses.calls] == [
        stages,
        f"{AUTH}/oauth/token",
        stages,
    ]
    new_access = json.loads(fixture("token__refresh_rotated.json"))["access_token"]
    assert responses.calls[2].request.headers["Authorization"] == f"Bearer {new_access}"
    assert [t.refresh_token for t in saved] == ["v1.MxRotatedRefreshTokenFixture"]
    assert client.refresh_token == "v1.MxRotatedRefreshTokenFixture"


@responses.activate
def test_a_second_401_raises_auth_error_after_one_refresh(client: LeverClient) -> None:
    responses.get(f"{API}/stages", status=401, json={"message": "revoked"})
    add("POST", f"{AUTH}/oauth/token", "token__refresh_rotated.json")
    with pytest.raises(AuthError):
        client.list_stages()
    token_calls = [c for c in responses.calls if c.request.url.endswith("/oauth/token")]
    assert len(token_calls) == 1


@responses.activate
def test_401_without_a_refresh_token_raises_at_once(app: LeverOAuthApp) -> None:
    responses.get(f"{API}/stages", status=401, json={"message": "revoked"})
    with pytest.raises(AuthError):
        LeverClient(API, "access-1", oauth=app).list_stages()
    assert len(responses.calls) == 1


@responses.activate
def test_an_expired_access_token_is_refreshed_before_the_call(client: LeverClient) -> None:
    client.expires_at = time.time() - 1
    add("POST", f"{AUTH}/oauth/token", "token__refresh_rotated.json")
    responses.get(f"{API}/stages", json={"data": [], "hasNext": False})
    client.list_stages()
    assert responses.calls[0].request.url == f"{AUTH}/oauth/token"


@responses.activate
def test_a_failing_persist_callback_propagates(client: LeverClient) -> None:
    def explode(tokens: TokenSet) -> None:
        raise RuntimeError("database down")

    client.on_token_refresh = explode
    responses.get(f"{API}/stages", status=401, json={})
    add("POST", f"{AUTH}/oauth/token", "token__refresh_rotated.json")
    with pytest.raises(RuntimeError):
        client.list_stages()


@responses.activate
def test_api_keys_use_basic_auth() -> None:
    responses.get(f"{API}/stages", json={"data": [], "hasNext": False})
    LeverClient(API, api_key="key123").list_stages()
    assert responses.calls[0].request.headers["Authorization"] == "Basic a2V5MTIzOg=="


# -- envelopes and pagination ---------------------------------------------------------------------


def test_unwrap_handles_every_nesting() -> None:
    obj = {"id": "w1", "configuration": {}}
    assert unwrap({"data": {"data": obj}}) == obj  # docs' create-webhook example
    assert unwrap({"data": obj}) == obj
    assert unwrap(obj) == obj  # docs' feedback examples have no envelope
    assert unwrap({"data": [1], "hasNext": False}) == [1]
    assert unwrap({"id": "x", "data": {"a": 1}}) == {"id": "x", "data": {"a": 1}}


@responses.activate
def test_it_follows_next_while_has_next(client: LeverClient) -> None:
    add(
        "GET",
        f"{API}/stages",
        "stages__page1.json",
        match=[matchers.query_param_matcher({"limit": "100"})],
    )
    add(
        "GET",
        f"{API}/stages",
        "stages__page2.json",
        match=[
            matchers.query_param_matcher(
                {"limit": "100", "offset": "%5B1407357447018%2C%22lead-reached-out%22%5D"}
            )
        ],
    )
    stages = client.list_stages()
    assert [s["text"] for s in stages] == [
        "New lead",
        "Reached out",
        "Phone Screen",
        "On-site interview",
        "Offer",
    ]


@responses.activate
def test_pagination_stops_on_a_repeated_offset(client: LeverClient) -> None:
    for _ in range(3):
        responses.get(f"{API}/users", json={"data": [{"id": "u"}], "hasNext": True, "next": "t"})
    with pytest.raises(ProviderError, match="did not advance"):
        list(client.list_users())


@responses.activate
def test_a_bare_list_is_one_page(client: LeverClient) -> None:
    responses.get(f"{API}/feedback_templates", json=[{"id": "t1"}])
    assert client.list_feedback_templates() == [{"id": "t1"}]


@responses.activate
def test_list_opportunities_sends_filters_in_lever_form(client: LeverClient) -> None:
    responses.get(f"{API}/opportunities", json={"data": [{"id": "o1"}], "hasNext": False})
    since = datetime(2025, 1, 1, tzinfo=UTC)
    found = list(
        client.list_opportunities(
            updated_at_start=since,
            stage_id=["s1", "s2"],
            archived=False,
            expand=["applications"],
            limit=50,
        )
    )
    assert found == [{"id": "o1"}]
    assert query(responses.calls[0]) == {
        "updated_at_start": ["1735689600000"],
        "stage_id": ["s1", "s2"],
        "archived": ["false"],
        "expand": ["applications"],
        "limit": ["50"],
    }


@responses.activate
def test_list_users_filters_by_email(client: LeverClient) -> None:
    add("GET", f"{API}/users", "users__by_email.json")
    users = list(client.list_users(email="chandler@example.com"))
    assert users[0]["id"] == USER
    assert query(responses.calls[0])["email"] == ["chandler@example.com"]


def test_to_millis_requires_aware_datetimes() -> None:
    assert to_millis(datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)) == 1000
    assert to_millis(None) is None
    with pytest.raises(ValueError):
        to_millis(datetime(2025, 1, 1))


# -- reads ----------------------------------------------------------------------------------------


@responses.activate
def test_get_opportunity_expands_applications(client: LeverClient) -> None:
    add("GET", f"{API}/opportunities/{OPP}", "opportunity__with_applications.json")
    opp = client.get_opportunity(OPP)
    assert query(responses.calls[0])["expand"] == ["applications", "stage", "contact"]
    assert opp["emails"][0] == "shane@exampleq3.com"
    assert opp["applications"][0]["posting"] == "f2f01e16-27f8-4711-a728-7d49499795a0"


@responses.activate
def test_a_missing_opportunity_is_not_found(client: LeverClient) -> None:
    add("GET", f"{API}/opportunities/{OPP}", "error__not_found.json", status=404)
    with pytest.raises(NotFound, match="not found") as info:
        client.get_opportunity(OPP)
    assert info.value.code == "ResourceNotFound"


@responses.activate
def test_429_with_retry_after_is_waited_out(client: LeverClient, sleeps: list[float]) -> None:
    responses.get(f"{API}/postings", status=429, headers={"Retry-After": "1"})
    responses.get(f"{API}/postings", json={"data": [{"id": "p1"}], "hasNext": False})
    assert [p["id"] for p in client.list_postings(state="published")] == ["p1"]
    assert sleeps == [1.0]


@responses.activate
def test_429_with_a_long_retry_after_is_raised(client: LeverClient) -> None:
    responses.get(f"{API}/postings", status=429, headers={"Retry-After": "30"})
    with pytest.raises(RateLimited) as info:
        list(client.list_postings())
    assert info.value.retry_after == 30.0


@responses.activate
def test_503_is_retried(client: LeverClient, sleeps: list[float]) -> None:
    responses.get(f"{API}/stages", status=503)
    responses.get(f"{API}/stages", json={"data": [], "hasNext": False})
    assert client.list_stages() == []
    assert len(sleeps) == 1


@responses.activate
def test_requests_carry_the_user_agent(client: LeverClient) -> None:
    responses.get(f"{API}/stages", json={"data": [], "hasNext": False})
    client.list_stages()
    assert responses.calls[0].request.headers["User-Agent"] == "Assay/test (+https://assay.example)"


# -- writes ---------------------------------------------------------------------------------------


@responses.activate
def test_add_note_returns_the_note_id(client: LeverClient) -> None:
    add("POST", f"{API}/opportunities/{OPP}/notes", "note_create.json", status=201)
    note_id = client.add_note(OPP, "Assay: Big Five completed", perform_as=USER, score=3)
    assert note_id == "915a6cef-4f91-4f3d-b8ff-a49e1eae2c30"
    assert query(responses.calls[0]) == {"perform_as": [USER]}
    assert json.loads(responses.calls[0].request.body) == {
        "value": "Assay: Big Five completed",
        "secret": False,
        "notifyFollowers": False,
        "score": 3,
    }


@responses.activate
def test_add_and_remove_tags(client: LeverClient) -> None:
    responses.post(f"{API}/opportunities/{OPP}/addTags", json={"data": {"id": OPP}})
    responses.post(f"{API}/opportunities/{OPP}/removeTags", json={"data": {"id": OPP}})
    assert client.add_tags(OPP, ["Assay: invited"]) == {"id": OPP}
    client.remove_tags(OPP, ["Assay: invited"], perform_as=USER)
    assert json.loads(responses.calls[0].request.body) == {"tags": ["Assay: invited"]}
    assert query(responses.calls[1]) == {"perform_as": [USER]}


@responses.activate
def test_create_feedback_template_reads_a_bare_response(client: LeverClient) -> None:
    add("POST", f"{API}/feedback_templates", "feedback_template_create__bare.json", status=201)
    fields = [
        {"type": "score-system", "text": "Assessment rating", "required": False},
        {"type": "text", "text": "Extraversion"},
    ]
    template = client.create_feedback_template("Assay — Big Five", fields, instructions="x")
    assert template["id"] == TEMPLATE
    assert all(f["id"] for f in template["fields"])
    assert json.loads(responses.calls[0].request.body)["fields"] == fields


@pytest.mark.parametrize("score_fields", [0, 2])
def test_templates_need_exactly_one_score_system_field(
    client: LeverClient, score_fields: int
) -> None:
    fields = [{"type": "score-system", "text": f"r{i}"} for i in range(score_fields)]
    with pytest.raises(ValueError, match="exactly one score-system"):
        client.create_feedback_template("T", [*fields, {"type": "text", "text": "t"}])


@responses.activate
def test_create_feedback_sends_perform_as_and_template_field_ids(client: LeverClient) -> None:
    add("POST", f"{API}/opportunities/{OPP}/feedback", "feedback_create__bare.json", status=201)
    form_ = client.create_feedback(
        OPP,
        TEMPLATE,
        {"343c4b2d-ce6e-4185-8038-834a6c5fcd13": "66"},
        USER,
        completed_at=1718000000000,
    )
    assert form_["baseTemplateId"] == TEMPLATE
    assert query(responses.calls[0]) == {"perform_as": [USER]}
    assert json.loads(responses.calls[0].request.body) == {
        "baseTemplateId": TEMPLATE,
        "fieldValues": [{"id": "343c4b2d-ce6e-4185-8038-834a6c5fcd13", "value": "66"}],
        "completedAt": 1718000000000,
    }


def test_create_feedback_refuses_without_perform_as(client: LeverClient) -> None:
    with pytest.raises(ValueError, match="perform_as"):
        client.create_feedback(OPP, TEMPLATE, {}, "")


def test_panel_and_interview_go_together(client: LeverClient) -> None:
    with pytest.raises(ValueError, match="panel and interview"):
        client.create_feedback(OPP, TEMPLATE, {}, USER, panel="p1")


@responses.activate
def test_a_vendor_rule_violation_is_permanent(client: LeverClient) -> None:
    responses.post(
        f"{API}/opportunities/{OPP}/feedback",
        status=400,
        json={"code": "BadRequestError", "message": "Unknown field id"},
    )
    with pytest.raises(PermanentProviderError, match="Unknown field id"):
        client.create_feedback(OPP, TEMPLATE, [{"id": "bogus", "value": "x"}], USER)
    assert len(responses.calls) == 1


@responses.activate
def test_update_feedback_puts_all_values(client: LeverClient) -> None:
    url = f"{API}/opportunities/{OPP}/feedback/fb1"
    responses.put(url, json={"data": {"id": "fb1"}})
    values = {"c1858cce": "3 - Hire", "343c4b2d": "66"}
    assert client.update_feedback(OPP, "fb1", values, USER) == {"id": "fb1"}
    assert query(responses.calls[0]) == {"perform_as": [USER]}
    assert json.loads(responses.calls[0].request.body)["fieldValues"] == field_values(values)
    with pytest.raises(ValueError):
        client.update_feedback(OPP, "fb1", values, "")


@responses.activate
def test_feedback_and_template_deletes(client: LeverClient) -> None:
    responses.delete(f"{API}/opportunities/{OPP}/feedback/fb1", status=204)
    responses.delete(f"{API}/feedback_templates/{TEMPLATE}", status=204)
    client.delete_feedback(OPP, "fb1", USER)
    client.delete_feedback_template(TEMPLATE)
    assert query(responses.calls[0]) == {"perform_as": [USER]}


@responses.activate
@pytest.mark.parametrize(
    "name", ["webhook_create__docs_nested.json", "webhook_create__single_envelope.json"]
)
def test_create_webhook_reads_both_nestings(client: LeverClient, name: str) -> None:
    add("POST", f"{API}/webhooks", name, status=201)
    hook = client.create_webhook(
        "https://assay.example/integrations/lever/9b0e/webhook",
        "candidateStageChange",
        origins=["applied", "sourced"],
    )
    assert hook.id == "e2befaae-b830-4c21-a002-2d5019486d1a"
    assert hook.signature_token == "73311aed32110cc40e00c672c2e03e1a42fa28a4fabde089"
    assert json.loads(responses.calls[0].request.body) == {
        "url": "https://assay.example/integrations/lever/9b0e/webhook",
        "event": "candidateStageChange",
        "configuration": {"conditions": {"origins": ["applied", "sourced"]}},
    }


@responses.activate
def test_listed_webhooks_have_no_signature_token(client: LeverClient) -> None:
    add("GET", f"{API}/webhooks", "webhooks__list.json")
    responses.delete(f"{API}/webhooks/e2befaae-b830-4c21-a002-2d5019486d1a", status=204)
    hooks = client.list_webhooks()
    assert hooks[0].event == "candidateStageChange" and hooks[0].signature_token is None
    client.delete_webhook(hooks[0].id)
