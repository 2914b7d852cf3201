"""Connecting an org to Lever: the OAuth round trip, webhook registration, `perform_as`, the live
lists an admin maps stages from, disconnecting, and the demo connection of `seed_demo`.

Django-aware (settings, cache, the Connection row) but free of request handling: views.py and
admin.py call in here, and every failure reaches them as a `ConnectError` (or a ProviderError
for the live lists) with a sentence an admin can act on.

Which Lever a connection talks to is decided when it is made: production uses the LEVER_* settings;
a sandbox connection points at the built-in fake Lever (FAKE_LEVER_URL) and stores its hosts and
its (public) client credentials in `Connection.config`, where `adapter.client_for` reads them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from integrations.errors import NotFound, ProviderError
from tenants.context import tenant_context

from .adapter import client_for
from .client import LeverClient, LeverWebhook, TokenSet
from .fake.seed import seed_id
from .fake.state import FAKE_CLIENT_ID, FAKE_CLIENT_SECRET

log = logging.getLogger("integrations.lever.connect")

CALLBACK_PATH = "/integrations/lever/callback"
WEBHOOK_EVENT = "candidateStageChange"
LISTS_TTL = 600  # seconds Lever's stages, postings and users are cached per connection
# Calls made while an admin waits for a page: short timeouts, one quick retry at most.
INTERACTIVE = {"timeout": (3.0, 10.0), "max_attempts": 2, "max_retry_sleep": 2.0}

MANUAL_STEP = ("In Lever, a Super Admin opens Settings → Integrations and API → Webhooks and "
               "switches on the “Candidate Stage Change” webhook group. Lever sends nothing to "
               "Assay until then (webhooks created through the API start switched off).")

DEMO_NAME = "Demo (built-in fake Lever)"
DEMO_STAGE = "Phone Screen"
DEMO_TESTS = ["big-five-mini-ipip-20", "self-efficacy-ipip"]


class ConnectError(Exception):
    """A connection step failed; the message is written for the org admin."""


# -- where things are ---------------------------------------------------------------------------

def redirect_uri() -> str:
    return settings.SITE_URL + CALLBACK_PATH


def webhook_url(connection) -> str:
    return f"{settings.SITE_URL}/integrations/lever/{connection.public_id}/webhook"


def fake_config(base_url: str) -> dict:
    """What a connection to the built-in fake Lever at `base_url` stores in its config."""
    base = base_url.rstrip("/")
    return {"api_url": f"{base}/v1", "auth_url": base, "client_id": FAKE_CLIENT_ID,
            "client_secret": FAKE_CLIENT_SECRET, "fake_url": base}


def production_configured() -> bool:
    return bool(settings.LEVER_CLIENT_ID and settings.LEVER_CLIENT_SECRET)


def sandbox_available() -> bool:
    return bool(settings.FAKE_LEVER_URL)


def is_connected(connection) -> bool:
    """Has tokens (active, or waiting for a reconnect or for the webhook set-up)."""
    return bool(connection.credentials) and connection.status != "disconnected"


# -- clients and row updates --------------------------------------------------------------------

def client(connection, *, interactive: bool = True, tokens: bool = True) -> LeverClient:
    """`adapter.client_for`, with short timeouts while an admin waits."""
    return client_for(connection, with_tokens=tokens, **(INTERACTIVE if interactive else {}))


def update(connection, *, config: dict | None = None, **fields) -> None:
    """Change some fields and merge `config` keys (None removes a key), under a row lock.

    Other code writes other config keys concurrently (the write-back stores template ids), so a
    change never replaces the whole config from a stale copy.
    """
    from integrations.models import Connection

    with transaction.atomic():
        row = Connection.objects.select_for_update().get(pk=connection.pk)
        merged = dict(row.config)
        for key, value in (config or {}).items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        row.config = merged
        for name, value in fields.items():
            setattr(row, name, value)
        row.save(update_fields=["config", *fields])
    connection.config = merged
    for name, value in fields.items():
        setattr(connection, name, value)


def store_tokens(connection, tokens: TokenSet) -> None:
    """Replace the stored tokens (a fresh grant: nothing of the old pair is kept)."""
    update(connection, credentials=json.dumps({
        "access_token": tokens.access_token, "refresh_token": tokens.refresh_token,
        "expires_at": tokens.expires_at}))


def fail(connection, message: str) -> ConnectError:
    connection.record_error(message)
    log.warning("integrations.lever.connect.failed connection=%s: %s", connection.public_id,
                message)
    return ConnectError(message)


# -- OAuth --------------------------------------------------------------------------------------

def begin(org, *, sandbox: bool, connection=None):
    """The connection an OAuth round trip is for: the given one (reconnect), an unfinished one
    of the same kind, or a new one. Raises ConnectError when that Lever is not configured."""
    from integrations.models import Connection, ConnectionStatus, Provider

    if sandbox and not sandbox_available():
        raise ConnectError("Sandbox connections are switched off on this server "
                           "(FAKE_LEVER_URL is empty).")
    if not sandbox and not production_configured():
        raise ConnectError("Lever is not configured on this server: the operator must set "
                           "LEVER_CLIENT_ID and LEVER_CLIENT_SECRET (Lever's partner team "
                           "issues them). A sandbox connection works without them.")
    if connection is None:
        connection = (Connection.objects.filter(
            org=org, provider=Provider.LEVER, is_sandbox=sandbox,
            status=ConnectionStatus.PENDING, credentials="").order_by("pk").first())
    if connection is None:
        connection = Connection.objects.create(
            org=org, provider=Provider.LEVER, is_sandbox=sandbox,
            name="Sandbox (built-in fake Lever)" if sandbox else "Lever")
    if sandbox:  # follow the fake if it moved (another FAKE_LEVER_PORT)
        update(connection, config=fake_config(settings.FAKE_LEVER_URL))
    return connection


def authorize_url(connection, state: str) -> str:
    """Lever's consent page for this connection (scopes incl. offline_access, the audience of
    its API host, our callback)."""
    return client(connection, tokens=False).authorize_url(state, redirect_uri())


def complete(connection, code: str, *, admin_email: str = "") -> list[str]:
    """Exchange the callback's code, store the tokens, then `setup()`. Returns warnings."""
    try:
        tokens = client(connection, tokens=False).exchange_code(code, redirect_uri())
    except (ProviderError, ValueError) as exc:  # ValueError: a body that is not JSON
        raise fail(connection, f"Lever did not accept the sign-in (token exchange failed): "
                               f"{exc}") from exc
    if not tokens.refresh_token:
        log.warning("integrations.lever.connect.no_refresh_token connection=%s",
                    connection.public_id)
    store_tokens(connection, tokens)
    log.info("integrations.lever.connect.tokens_stored connection=%s", connection.public_id)
    return setup(connection, admin_email=admin_email)


def setup(connection, *, admin_email: str = "") -> list[str]:
    """Register our candidateStageChange webhook, load Lever's users, keep or pick `perform_as`,
    and mark the connection active. Returns warnings for the admin; raises ConnectError."""
    from integrations.models import ConnectionStatus

    if not connection.credentials:
        raise ConnectError("This connection has no Lever sign-in; click Connect first.")
    lever = client(connection)
    try:
        hook = register_webhook(lever, connection)
    except (ProviderError, ValueError) as exc:
        raise fail(connection, f"Signed in to Lever, but registering the webhook failed: {exc}. "
                               "Use “Finish set-up” to try again.") from exc
    try:
        people = users(connection, refresh=True, lever=lever)
    except ProviderError as exc:
        people = []
        log.warning("integrations.lever.connect.users_failed connection=%s: %s",
                    connection.public_id, exc)
    perform_as = connection.config.get("perform_as")
    if perform_as not in {u["id"] for u in people}:
        perform_as = next((u["id"] for u in people
                           if admin_email and u["email"].lower() == admin_email.lower()), None)
    update(connection, webhook_secret=hook.signature_token, status=ConnectionStatus.ACTIVE,
           last_error="", last_error_at=None,
           config={"webhook_ids": [hook.id], "webhook_url": hook.url, "perform_as": perform_as,
                   "connected_at": timezone.now().isoformat()})
    log.info("integrations.lever.connect.active connection=%s webhook=%s",
             connection.public_id, hook.id)
    warnings = []
    if not perform_as:
        warnings.append("Choose the Lever user that Assay posts results as (under “Results "
                        "are posted in Lever as”): feedback forms cannot be written until you "
                        "do.")
    return warnings


def register_webhook(lever: LeverClient, connection) -> LeverWebhook:
    """Create our webhook, replacing any earlier one of ours (Lever shows a webhook's signature
    token only when it is created, so an old one cannot be reused; brief §7.3, §7.5)."""
    url = webhook_url(connection)
    old = set(connection.config.get("webhook_ids") or [])
    old |= {hook.id for hook in lever.list_webhooks() if hook.url == url}
    delete_webhooks(lever, old)
    hook = lever.create_webhook(url, WEBHOOK_EVENT)
    if not hook.signature_token:
        delete_webhooks(lever, [hook.id])
        raise ProviderError("Lever created the webhook without a signature token, so its "
                            "deliveries could not be verified")
    return hook


def delete_webhooks(lever: LeverClient, ids: Iterable[str]) -> None:
    for webhook_id in ids:
        try:
            lever.delete_webhook(webhook_id)
        except NotFound:
            pass  # already gone (deleted in Lever, or another account after a reconnect)


def disconnect(connection) -> list[str]:
    """Delete our webhooks in Lever, forget the tokens and the webhook secret. Local state is
    cleared even when Lever cannot be reached; the warning says so."""
    from integrations.models import ConnectionStatus

    warnings = []
    if connection.credentials:
        try:
            lever = client(connection)
            url = webhook_url(connection)
            ids = set(connection.config.get("webhook_ids") or [])
            ids |= {hook.id for hook in lever.list_webhooks() if hook.url == url}
            delete_webhooks(lever, ids)
        except ProviderError as exc:
            warnings.append(f"Could not remove Assay's webhook from Lever ({exc}). Lever may "
                            "still list it; Assay refuses its deliveries from now on.")
    update(connection, credentials="", webhook_secret="", status=ConnectionStatus.DISCONNECTED,
           config={"webhook_ids": None, "webhook_url": None, "connected_at": None})
    forget_lists(connection)
    log.info("integrations.lever.connect.disconnected connection=%s", connection.public_id)
    return warnings


# -- live lists (cached per connection) ---------------------------------------------------------

def _key(connection, kind: str) -> str:
    return f"integrations:lever:{connection.public_id}:{kind}"


def _cached(connection, kind: str, fetch, refresh: bool):
    if not refresh:
        hit = cache.get(_key(connection, kind))
        if hit is not None:
            return hit
    value = fetch()
    cache.set(_key(connection, kind), value, LISTS_TTL)
    return value


def stages(connection, *, refresh: bool = False, lever: LeverClient | None = None) -> list[dict]:
    """Lever's pipeline stages, in pipeline order: [{id, text}]."""
    def fetch():
        return [{"id": s["id"], "text": s.get("text") or s["id"]}
                for s in (lever or client(connection)).list_stages()]
    return _cached(connection, "stages", fetch, refresh)


def postings(connection, *, refresh: bool = False,
             lever: LeverClient | None = None) -> list[dict]:
    """Every posting: [{id, text, state}], open ones first."""
    def fetch():
        rows = [{"id": p["id"], "text": p.get("text") or p["id"], "state": p.get("state", "")}
                for p in (lever or client(connection)).list_postings()]
        return sorted(rows, key=lambda p: (p["state"] == "closed", p["text"].lower()))
    return _cached(connection, "postings", fetch, refresh)


def users(connection, *, refresh: bool = False, lever: LeverClient | None = None) -> list[dict]:
    """Active Lever users (who results can be posted as): [{id, name, email}]."""
    def fetch():
        return [{"id": u["id"], "name": u.get("name") or u.get("email") or u["id"],
                 "email": u.get("email") or ""}
                for u in (lever or client(connection)).list_users() if not u.get("deactivatedAt")]
    return _cached(connection, "users", fetch, refresh)


def forget_lists(connection) -> None:
    cache.delete_many([_key(connection, kind) for kind in ("stages", "postings", "users")])


def refresh_lists(connection) -> tuple[int, int, int]:
    lever = client(connection)
    return (len(stages(connection, refresh=True, lever=lever)),
            len(postings(connection, refresh=True, lever=lever)),
            len(users(connection, refresh=True, lever=lever)))


def set_perform_as(connection, user_id: str) -> dict:
    """Post results as this Lever user (must be an active user of the account)."""
    person = next((u for u in users(connection) if u["id"] == user_id), None)
    if person is None:
        raise ConnectError("That user is not an active user of this Lever account.")
    update(connection, config={"perform_as": person["id"]})
    return person


# -- the demo ------------------------------------------------------------------------------------

@dataclass
class DemoResult:
    connection: object
    connected: bool
    note: str


def ensure_demo_connection(org, fake_url: str) -> DemoResult:
    """The demo org's sandbox connection to the fake Lever at `fake_url`, idempotently.

    With the fake up: tokens minted through its control API (no browser needed), our webhook
    registered through the API, perform_as = the fake's first user. With the fake down: left
    pending with a note. Either way a "Phone Screen" mapping to two short tests exists.
    """
    from integrations.models import Connection, ConnectionStatus, Provider, StageMapping

    with tenant_context(org):
        connection = Connection.objects.filter(org=org, provider=Provider.LEVER,
                                               config__demo=True).first()
        if connection is None:
            connection = Connection.objects.create(org=org, provider=Provider.LEVER,
                                                   is_sandbox=True, name=DEMO_NAME,
                                                   config={"demo": True})
        update(connection, config=fake_config(fake_url))
        connected, note = _connect_demo(connection, fake_url)
        if not connected:
            update(connection, status=ConnectionStatus.PENDING)
            connection.record_error(note)
        stage = next((s for s in (stages(connection) if connected else [])
                      if s["text"] == DEMO_STAGE), None)
        stage = stage or {"id": seed_id(f"stage:{DEMO_STAGE}"), "text": DEMO_STAGE}
        StageMapping.objects.get_or_create(
            org=org, connection=connection, stage_id=stage["id"], posting_id="",
            defaults={"stage_name": stage["text"], "tests": list(DEMO_TESTS)})
    return DemoResult(connection, connected, note)


def _connect_demo(connection, fake_url: str) -> tuple[bool, str]:
    try:
        requests.get(f"{fake_url.rstrip('/')}/_control/state", timeout=2).raise_for_status()
    except requests.RequestException as exc:
        return False, (f"The fake Lever is not reachable at {fake_url} ({type(exc).__name__}); "
                       "start it (`python manage.py run_fake_ats lever --port "
                       f"{settings.FAKE_LEVER_PORT}`) and run `seed_demo` again.")
    if _demo_still_connected(connection):
        return True, "already connected to the fake Lever"
    try:
        minted = requests.post(f"{fake_url.rstrip('/')}/_control/tokens", json={}, timeout=5)
        minted.raise_for_status()
        store_tokens(connection, TokenSet.from_response(minted.json()))
        setup(connection)
        people = users(connection)
        if people:
            update(connection, config={"perform_as": people[0]["id"]})
    except (requests.RequestException, ValueError, KeyError, ProviderError,
            ConnectError) as exc:
        return False, f"Connecting the demo to the fake Lever at {fake_url} failed: {exc}"
    return True, "connected to the fake Lever"


def _demo_still_connected(connection) -> bool:
    """True when the stored tokens still work and our webhook is still registered (the fake
    keeps everything in memory, so a restarted fake needs new tokens and a new webhook)."""
    if not (connection.credentials and connection.webhook_secret
            and connection.status == "active"):
        return False
    try:
        hooks = client(connection).list_webhooks()
    except ProviderError:
        return False
    wanted = set(connection.config.get("webhook_ids") or [])
    return any(h.id in wanted and h.url == webhook_url(connection) for h in hooks)
