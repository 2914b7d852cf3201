"""Connecting Lever from the console: the OAuth round trip against the fake Lever over real HTTP
(consent page, Approve/Deny form, token endpoint), webhook registration, perform_as, mapping
validation against the live lists, disconnect, roles, and the demo connection of seed_demo."""

from __future__ import annotations

import html
import json
import re
import secrets
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection as db
from django.urls import reverse

from integrations.models import Connection, StageMapping
from integrations.providers.lever import connect
from integrations.providers.lever.fake import run_fake_lever, seed_id
from integrations.providers.lever.signatures import sign
from tenants.context import platform_context, tenant_context
from tenants.models import Membership, Organization, User
from tests.integrations.lever.conftest import control
from tests.rls_rows import catalog_test

pytestmark = pytest.mark.django_db

PHONE_SCREEN = seed_id("stage:Phone Screen")


@pytest.fixture
def fake(settings):
    server = run_fake_lever()
    settings.FAKE_LEVER_URL = server.url
    yield server
    server.stop()


def member(org, role: str) -> User:
    with platform_context("test set-up"):
        if role == "owner":
            return Membership.objects.get(org=org, role="owner").user
        user = User.objects.create_user(f"{role}@{org.slug}.test", "pw-123456!", is_staff=True)
        Membership.objects.create(org=org, user=user, role=role)
        return user


@pytest.fixture
def owner(client, org_a):
    client.force_login(member(org_a, "owner"))
    return client


def consent(authorize_url: str, decision: str = "approve") -> str:
    """Open the fake's consent page like a browser and press a button; return where it sends
    the browser back to (our callback URL)."""
    page = requests.get(authorize_url, timeout=10)
    assert page.status_code == 200, page.text
    assert 'id="approve"' in page.text
    fields = {html.unescape(k): html.unescape(v) for k, v in
              re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)">', page.text)}
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
    base = "{0.scheme}://{0.netloc}".format(urlsplit(authorize_url))
    answer = requests.post(base + action, data={**fields, "decision": decision},
                           allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    return answer.headers["Location"]


def local(url: str, settings) -> str:
    assert url.startswith(settings.SITE_URL + "/"), url
    return url[len(settings.SITE_URL):]


def start(client, query="?sandbox=1") -> str:
    response = client.get("/integrations/lever/connect" + query)
    assert response.status_code == 302, response.content
    return response["Location"]


def oauth_dance(client, settings, query="?sandbox=1", decision="approve"):
    callback = consent(start(client, query), decision)
    return client.get(local(callback, settings))


def the_connection(org) -> Connection:
    with tenant_context(org):
        return Connection.objects.get()


def raw_columns(org, pk) -> tuple[str, str]:
    with tenant_context(org), db.cursor() as cursor:
        cursor.execute("SELECT credentials, webhook_secret FROM integrations_connection "
                       "WHERE id = %s", [pk])
        return cursor.fetchone()


def page_text(client, connection) -> str:
    response = client.get(reverse("admin:integrations_connection_change", args=[connection.pk]))
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def signed_stage_change(secret: str) -> dict:
    token, triggered = secrets.token_hex(24), int(time.time() * 1000)
    return {"id": "e1", "event": "candidateStageChange", "triggeredAt": triggered,
            "token": token, "signature": sign(token, triggered, secret),
            "data": {"opportunityId": seed_id("opp:ada"), "candidateId": seed_id("opp:ada"),
                     "contactId": "c", "toStageId": PHONE_SCREEN, "fromStageId": "x"}}


def post_webhook(client, connection, body):
    return client.post(f"/integrations/lever/{connection.public_id}/webhook",
                       data=json.dumps(body), content_type="application/json")


# -- the OAuth round trip -------------------------------------------------------------------------

def test_connect_runs_the_oauth_dance_and_registers_the_webhook(owner, org_a, fake, settings):
    authorize = start(owner)
    assert authorize.startswith(f"{fake.url}/authorize?")
    query = parse_qs(urlsplit(authorize).query)
    assert "offline_access" in query["scope"][0].split()
    assert {"webhooks:write:admin", "users:read:admin", "stages:read:admin",
            "feedback:write:admin"} <= set(query["scope"][0].split())
    assert query["audience"] == [f"{fake.api_url}/"]
    assert query["redirect_uri"] == [f"{settings.SITE_URL}/integrations/lever/callback"]
    assert len(query["state"][0]) >= 32

    response = owner.get(local(consent(authorize), settings))
    connection = the_connection(org_a)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:integrations_connection_change",
                                           args=[connection.pk])
    assert connection.status == "active" and connection.is_sandbox
    tokens = json.loads(connection.credentials)
    assert tokens["access_token"] and tokens["refresh_token"]
    assert tokens["expires_at"] > time.time() + 3000
    # Secrets at rest: the columns hold ciphertext, not the tokens.
    raw_credentials, raw_secret = raw_columns(org_a, connection.pk)
    for secret in (tokens["access_token"], tokens["refresh_token"], "access_token"):
        assert secret not in raw_credentials
    assert connection.webhook_secret and connection.webhook_secret not in raw_secret

    [hook] = control(fake, "GET", "state")["webhooks"]
    assert hook["url"] == f"{settings.SITE_URL}/integrations/lever/{connection.public_id}/webhook"
    assert hook["event"] == "candidateStageChange"
    assert hook["configuration"]["signatureToken"] == connection.webhook_secret
    assert connection.config["webhook_ids"] == [hook["id"]]

    text = page_text(owner, connection)
    assert "Lever is connected" in text and "Candidate Stage Change" in text
    assert "Choose the Lever user" in text  # no Lever user has the owner's email
    assert hook["url"] in text and "Last webhook received" in text


def test_the_registered_secret_verifies_lever_deliveries(owner, org_a, fake, settings):
    oauth_dance(owner, settings)
    connection = the_connection(org_a)
    assert post_webhook(owner, connection, signed_stage_change(connection.webhook_secret)
                        ).status_code == 200
    assert post_webhook(owner, connection, signed_stage_change("another-secret")
                        ).status_code == 401


def test_a_wrong_or_missing_state_is_a_friendly_400(owner, org_a, fake, settings):
    callback = urlsplit(consent(start(owner)))
    code = parse_qs(callback.query)["code"][0]
    for query in (f"code={code}&state=forged", f"code={code}", "error=access_denied"):
        response = owner.get(f"/integrations/lever/callback?{query}")
        assert response.status_code == 400
        assert "does not match a connection started from this browser" in html.unescape(
            response.content.decode())
    assert the_connection(org_a).status == "pending"
    # The real state still works once, and only once.
    assert owner.get(f"{callback.path}?{callback.query}").status_code == 302
    assert the_connection(org_a).status == "active"
    assert owner.get(f"{callback.path}?{callback.query}").status_code == 400


def test_a_state_from_another_browser_session_is_refused(owner, org_a, fake, settings):
    callback = consent(start(owner))
    from django.test import Client

    other = Client()
    other.force_login(member(org_a, "admin"))
    assert other.get(local(callback, settings)).status_code == 400
    assert not the_connection(org_a).credentials


def test_lever_denying_access_is_shown_not_raised(owner, org_a, fake, settings):
    response = oauth_dance(owner, settings, decision="deny")
    assert response.status_code == 302
    connection = the_connection(org_a)
    assert connection.status == "pending" and not connection.credentials
    assert "denied" in connection.last_error
    text = page_text(owner, connection)
    assert "Lever did not grant access: The user denied access (access_denied)" in text
    assert 'id="reconnect"' in text
    assert control(fake, "GET", "state")["webhooks"] == []


def test_a_failed_token_exchange_is_shown_not_raised(owner, org_a, fake, settings):
    authorize = start(owner)
    control(fake, "POST", "faults", status=503, count=10, paths=r"^/oauth/token")
    response = owner.get(local(consent(authorize), settings))
    assert response.status_code == 302
    connection = the_connection(org_a)
    assert connection.status == "pending" and not connection.credentials
    assert "token exchange failed" in connection.last_error
    assert "token exchange failed" in page_text(owner, connection)


def test_a_failed_webhook_registration_is_shown_and_can_be_retried(owner, org_a, fake, settings):
    authorize = start(owner)
    control(fake, "POST", "faults", status=500, count=10, paths=r"^/v1/webhooks",
            method="POST")
    owner.get(local(consent(authorize), settings))
    connection = the_connection(org_a)
    assert connection.credentials and connection.status == "pending"
    assert not connection.webhook_secret
    assert "registering the webhook failed" in connection.last_error
    assert "Finish set-up" in page_text(owner, connection)

    control(fake, "DELETE", "faults")
    response = owner.post(f"/integrations/lever/{connection.public_id}/setup")
    assert response.status_code == 302
    connection = the_connection(org_a)
    assert connection.status == "active" and connection.webhook_secret
    assert connection.last_error == ""
    assert len(control(fake, "GET", "state")["webhooks"]) == 1


def test_setup_again_replaces_our_webhook_instead_of_adding_one(owner, org_a, fake, settings):
    oauth_dance(owner, settings)
    connection = the_connection(org_a)
    first = connection.webhook_secret
    owner.post(f"/integrations/lever/{connection.public_id}/setup")
    [hook] = control(fake, "GET", "state")["webhooks"]
    connection = the_connection(org_a)
    assert hook["configuration"]["signatureToken"] == connection.webhook_secret != first


def test_production_without_lever_credentials_explains_what_to_set(owner, org_a, settings):
    settings.LEVER_CLIENT_ID = settings.LEVER_CLIENT_SECRET = ""
    response = owner.get("/integrations/lever/connect")
    assert response.status_code == 400
    assert "LEVER_CLIENT_ID" in response.content.decode()


def test_production_uses_the_lever_settings(owner, org_a, settings):
    settings.LEVER_CLIENT_ID, settings.LEVER_CLIENT_SECRET = "prod-client", "prod-secret"
    authorize = start(owner, "")
    assert authorize.startswith("https://auth.lever.co/authorize?")
    query = parse_qs(urlsplit(authorize).query)
    assert query["audience"] == ["https://api.lever.co/v1/"]
    assert query["client_id"] == ["prod-client"]
    connection = the_connection(org_a)
    assert not connection.is_sandbox and "client_secret" not in connection.config


# -- after connecting -----------------------------------------------------------------------------

def test_the_admin_picks_who_results_are_posted_as(owner, org_a, fake, settings):
    oauth_dance(owner, settings)
    connection = the_connection(org_a)
    users = control(fake, "GET", "state")["users"]
    url = f"/integrations/lever/{connection.public_id}/perform-as"
    assert owner.post(url, {"perform_as": "not-a-lever-user"}).status_code == 302
    assert "perform_as" not in the_connection(org_a).config or not the_connection(
        org_a).config["perform_as"]
    owner.post(url, {"perform_as": users[1]["id"]})
    assert the_connection(org_a).config["perform_as"] == users[1]["id"]
    text = page_text(owner, the_connection(org_a))
    assert f'<option value="{users[1]["id"]}" selected>' in text


def test_perform_as_defaults_to_the_lever_user_with_the_admins_email(client, org_a, fake,
                                                                     settings):
    riley = User.objects.create_user("riley.recruiter@example.com", "pw-123456!", is_staff=True)
    with platform_context("test set-up"):
        Membership.objects.create(org=org_a, user=riley, role="admin")
    client.force_login(riley)
    oauth_dance(client, settings)
    assert the_connection(org_a).config["perform_as"] == seed_id(
        "user:riley.recruiter@example.com")


def test_disconnect_removes_the_webhook_and_the_intake_then_answers_404(owner, org_a, fake,
                                                                        settings):
    oauth_dance(owner, settings)
    connection = the_connection(org_a)
    secret = connection.webhook_secret
    assert len(control(fake, "GET", "state")["webhooks"]) == 1

    response = owner.post(f"/integrations/lever/{connection.public_id}/disconnect")
    assert response.status_code == 302
    assert control(fake, "GET", "state")["webhooks"] == []
    connection = the_connection(org_a)
    assert connection.status == "disconnected"
    assert connection.credentials == "" and connection.webhook_secret == ""
    assert raw_columns(org_a, connection.pk) == ("", "")
    assert post_webhook(owner, connection, signed_stage_change(secret)).status_code == 404
    assert 'id="reconnect"' in page_text(owner, connection)


def test_disconnect_when_lever_already_deleted_the_webhook(owner, org_a, fake, settings):
    oauth_dance(owner, settings)
    connection = the_connection(org_a)
    [hook] = control(fake, "GET", "state")["webhooks"]
    requests.delete(f"{fake.api_url}/webhooks/{hook['id']}", timeout=5,
                    headers={"Authorization": "Bearer "
                             + json.loads(connection.credentials)["access_token"]})
    owner.post(f"/integrations/lever/{connection.public_id}/disconnect")
    assert the_connection(org_a).status == "disconnected"


def test_needs_reconnect_is_prominent_and_reconnect_reuses_the_connection(owner, org_a, fake,
                                                                          settings):
    oauth_dance(owner, settings)
    connection = the_connection(org_a)
    with tenant_context(org_a):
        Connection.objects.filter(pk=connection.pk).update(status="needs_reconnect")
        connection.refresh_from_db()
    text = page_text(owner, connection)
    assert 'id="needs-reconnect"' in text and "Lever no longer accepts" in text
    assert f"connect?connection={connection.public_id}" in text

    oauth_dance(owner, settings, query=f"?connection={connection.public_id}")
    with tenant_context(org_a):
        assert Connection.objects.count() == 1
    assert the_connection(org_a).status == "active"
    assert len(control(fake, "GET", "state")["webhooks"]) == 1


@pytest.mark.parametrize("role", ["viewer", "recruiter"])
def test_viewers_and_recruiters_cannot_connect_or_disconnect(client, org_a, fake, settings, role):
    with tenant_context(org_a):
        existing = Connection.objects.create(org=org_a, provider="lever", is_sandbox=True,
                                             status="active")
    client.force_login(member(org_a, role))
    assert client.get("/integrations/lever/connect?sandbox=1").status_code == 403
    for action in ("disconnect", "setup", "refresh", "perform-as"):
        response = client.post(f"/integrations/lever/{existing.public_id}/{action}")
        assert response.status_code == 403
    with tenant_context(org_a):
        assert Connection.objects.count() == 1
        assert Connection.objects.get().status == "active"


def test_signed_out_visitors_are_sent_to_sign_in(client, fake):
    response = client.get("/integrations/lever/connect?sandbox=1")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_another_orgs_connection_is_not_found(owner, org_a, org_b, fake):
    with tenant_context(org_b):
        theirs = Connection.objects.create(org=org_b, provider="lever", status="active")
    assert owner.post(f"/integrations/lever/{theirs.public_id}/disconnect").status_code == 404
    assert owner.get(f"/integrations/lever/connect?connection={theirs.public_id}"
                     ).status_code == 404


# -- stage mappings against the live lists --------------------------------------------------------

def mapping_post(connection, *, stage, tests, posting="", expires=14) -> dict:
    data = {"name": connection.name,
            "stage_mappings-TOTAL_FORMS": "1", "stage_mappings-INITIAL_FORMS": "0",
            "stage_mappings-MIN_NUM_FORMS": "0", "stage_mappings-MAX_NUM_FORMS": "1000",
            "stage_mappings-0-stage_id": stage, "stage_mappings-0-posting_id": posting,
            "stage_mappings-0-expires_in_days": str(expires),
            "stage_mappings-0-is_active": "on",
            "stage_mappings-0-connection": str(connection.pk), "stage_mappings-0-id": ""}
    for i in range(5):
        data[f"stage_mappings-0-tests_{i}"] = tests[i] if i < len(tests) else ""
    return data


@pytest.fixture
def connected(owner, org_a, fake, settings):
    for slug in ("big-five-mini-ipip-20", "self-efficacy-ipip", "leadership-ipip"):
        catalog_test(slug)
    oauth_dance(owner, settings)
    return the_connection(org_a)


def save_mapping(client, connection, **kwargs):
    url = reverse("admin:integrations_connection_change", args=[connection.pk])
    return client.post(url, mapping_post(connection, **kwargs))


def test_a_mapping_takes_a_live_stage_a_posting_and_ordered_tests(owner, org_a, connected, fake):
    page = page_text(owner, connected)
    assert "Phone Screen" in page and "Senior Backend Engineer" in page
    assert "Mini-IPIP" in page or "big-five-mini-ipip-20" in page
    posting = seed_id("posting:Senior Backend Engineer")
    response = save_mapping(owner, connected, stage=PHONE_SCREEN, posting=posting,
                            tests=["self-efficacy-ipip", "big-five-mini-ipip-20"], expires=7)
    assert response.status_code == 302, response.content.decode()[-3000:]
    with tenant_context(org_a):
        mapping = StageMapping.objects.get()
    assert mapping.stage_name == "Phone Screen"
    assert mapping.posting_name == "Senior Backend Engineer"
    assert mapping.tests == ["self-efficacy-ipip", "big-five-mini-ipip-20"]
    assert mapping.expires_in_days == 7 and mapping.org_id == org_a.pk


@pytest.mark.parametrize(("change", "error"), [
    ({"stage": "no-such-stage"}, "is not a stage in this Lever account"),
    ({"posting": "no-such-posting"}, "is not a posting in this Lever account"),
    ({"tests": ["no-such-test"]}, "no-such-test"),
    ({"tests": ["leadership-ipip"]}, "leadership-ipip"),  # experimental: not offered
    ({"tests": []}, "Choose at least one test"),
    ({"tests": ["self-efficacy-ipip", "self-efficacy-ipip"]}, "chosen twice"),
    ({"expires": 0}, "greater than or equal to 1"),
])
def test_mapping_validation_rejects_what_lever_or_the_catalog_does_not_have(
        owner, org_a, connected, change, error):
    values = {"stage": PHONE_SCREEN, "tests": ["big-five-mini-ipip-20"], **change}
    response = save_mapping(owner, connected, **values)
    assert response.status_code == 200
    assert error in html.unescape(response.content.decode())
    with tenant_context(org_a):
        assert StageMapping.objects.count() == 0


def test_lists_are_cached_and_the_refresh_button_reloads_them(owner, org_a, connected, fake):
    page_text(owner, connected)
    assert cache.get(f"integrations:lever:{connected.public_id}:stages")
    control(fake, "POST", "faults", status=503, count=100, paths=r"^/v1/stages")
    assert "Phone Screen" in page_text(owner, connected)  # served from the cache
    response = owner.post(f"/integrations/lever/{connected.public_id}/refresh", follow=True)
    assert "lists could not be loaded" in html.unescape(response.content.decode())
    control(fake, "DELETE", "faults")
    response = owner.post(f"/integrations/lever/{connected.public_id}/refresh", follow=True)
    assert "6 stages, 2 postings, 2 users" in response.content.decode()


# -- the demo -------------------------------------------------------------------------------------

def demo_connection() -> tuple[Organization, Connection]:
    org = Organization.objects.get(slug="demo")
    with tenant_context(org):
        return org, Connection.objects.get()


def test_seed_demo_connects_the_demo_org_to_the_fake_idempotently(fake, settings):
    call_command("seed_demo")
    call_command("seed_demo")
    org, connection = demo_connection()
    state = control(fake, "GET", "state")
    assert connection.status == "active" and connection.is_sandbox
    assert connection.config["api_url"] == fake.api_url
    assert connection.config["perform_as"] == state["users"][0]["id"]
    [hook] = state["webhooks"]
    assert hook["url"] == f"{settings.SITE_URL}/integrations/lever/{connection.public_id}/webhook"
    assert hook["configuration"]["signatureToken"] == connection.webhook_secret
    with tenant_context(org):
        [mapping] = StageMapping.objects.all()
    assert mapping.stage_id == PHONE_SCREEN and mapping.stage_name == "Phone Screen"
    assert mapping.tests == ["big-five-mini-ipip-20", "self-efficacy-ipip"]

    control(fake, "POST", "reset")  # a restarted fake forgets tokens and webhooks
    call_command("seed_demo")
    org, again = demo_connection()
    [hook] = control(fake, "GET", "state")["webhooks"]
    assert again.pk == connection.pk and again.status == "active"
    assert hook["configuration"]["signatureToken"] == again.webhook_secret
    with tenant_context(org):
        assert StageMapping.objects.count() == 1


def test_seed_demo_without_the_fake_leaves_the_connection_pending_with_a_note(settings,
                                                                              capsys):
    settings.FAKE_LEVER_URL = "http://127.0.0.1:9"
    call_command("seed_demo")
    _, connection = demo_connection()
    assert connection.status == "pending" and not connection.webhook_secret
    assert "not reachable" in connection.last_error and "run_fake_ats" in connection.last_error
    assert "not reachable" in capsys.readouterr().out


def test_connect_finds_the_fake_at_its_current_url(owner, org_a, fake, settings):
    oauth_dance(owner, settings)
    assert the_connection(org_a).config["fake_url"] == fake.url
    assert connect.is_connected(the_connection(org_a))


def test_the_page_still_works_when_lever_is_down(owner, org_a, connected, fake):
    save_mapping(owner, connected, stage=PHONE_SCREEN, tests=["big-five-mini-ipip-20"])
    connect.forget_lists(connected)
    control(fake, "POST", "faults", status=503, count=1000, paths=r"^/v1/")
    text = page_text(owner, connected)
    assert "lists could not be loaded" in text and "users could not be loaded" in text
    # The saved mapping still saves unchanged; a new stage cannot be checked, so it is refused.
    assert save_mapping(owner, connected, stage=PHONE_SCREEN,
                        tests=["self-efficacy-ipip"]).status_code == 200  # new row: refused
    with tenant_context(org_a):
        mapping = StageMapping.objects.get()
    url = reverse("admin:integrations_connection_change", args=[connected.pk])
    data = mapping_post(connected, stage=PHONE_SCREEN, tests=["self-efficacy-ipip"])
    data.update({"stage_mappings-INITIAL_FORMS": "1", "stage_mappings-0-id": str(mapping.pk)})
    assert owner.post(url, data).status_code == 302
    with tenant_context(org_a):
        assert StageMapping.objects.get().tests == ["self-efficacy-ipip"]


def test_a_viewer_sees_the_status_but_no_buttons(client, org_a, connected):
    client.force_login(member(org_a, "viewer"))
    text = page_text(client, connected)
    assert "Live status" in text and "Candidate Stage Change" in text
    assert 'id="disconnect"' not in text and "Refresh Lever lists" not in text
