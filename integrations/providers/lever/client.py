"""Lever Data API and OAuth client: one method per endpoint, plain values in and out.

No Django here: the adapter passes tokens and URLs in, and persists rotated tokens through the
``on_token_refresh`` callback. Docs: https://hire.lever.co/developer/documentation (the brief's L1).
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import requests

from integrations.errors import AuthError, PermanentProviderError, ProviderError
from integrations.http import BaseClient

logger = logging.getLogger("integrations.lever")

DOCS = "https://hire.lever.co/developer/documentation"
PRODUCTION_API_URL = "https://api.lever.co/v1"
PRODUCTION_AUTH_URL = "https://auth.lever.co"
SANDBOX_API_URL = "https://api.sandbox.lever.co/v1"
SANDBOX_AUTH_URL = "https://sandbox-lever.auth0.com"

# Lever's assessment use case (https://hire.lever.co/developer/usecases) plus what our flow needs:
# feedback forms and their template (DESIGN §3.7), users for perform_as, postings for mappings.
DEFAULT_SCOPES: tuple[str, ...] = (
    "offline_access",
    "opportunities:write:admin",
    "notes:write:admin",
    "stages:read:admin",
    "tags:read:admin",
    "webhooks:write:admin",
    "feedback:write:admin",
    "feedback_templates:write:admin",
    "users:read:admin",
    "postings:read:admin",
)
SCORE_SYSTEM = "score-system"
DEFAULT_OPPORTUNITY_EXPAND: tuple[str, ...] = ("applications", "stage", "contact")
MAX_PAGES = 10_000  # a guard against a server that keeps saying hasNext
REFRESH_SKEW_SECONDS = 60


@dataclass(frozen=True)
class LeverOAuthApp:
    """The partner app's credentials and hosts; sandbox and production need separate apps."""

    client_id: str
    client_secret: str
    auth_url: str = PRODUCTION_AUTH_URL
    audience: str | None = None  # defaults to the API base URL with a trailing slash


@dataclass(frozen=True)
class TokenSet:
    """Tokens from Lever's token endpoint. ``refresh_token`` is the one to store from now on."""

    access_token: str
    refresh_token: str | None
    expires_at: float | None  # epoch seconds
    token_type: str = "Bearer"
    scope: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_response(
        cls, body: Mapping[str, Any], previous_refresh_token: str | None = None
    ) -> TokenSet:
        expires_in = body.get("expires_in")
        return cls(
            access_token=str(body["access_token"]),
            # Lever rotates refresh tokens on each refresh; keep the old one only if none came back.
            refresh_token=body.get("refresh_token") or previous_refresh_token,
            expires_at=time.time() + float(expires_in) if expires_in is not None else None,
            token_type=str(body.get("token_type") or "Bearer"),
            scope=str(body.get("scope") or ""),
            raw=dict(body),
        )


@dataclass(frozen=True)
class LeverWebhook:
    id: str
    url: str
    event: str
    signature_token: str | None  # only returned by create: store it then, it is never shown again
    configuration: Mapping[str, Any] = field(default_factory=dict)
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_api(cls, obj: Mapping[str, Any]) -> LeverWebhook:
        configuration = obj.get("configuration") or {}
        return cls(
            id=str(obj["id"]),
            url=str(obj.get("url", "")),
            event=str(obj.get("event", "")),
            signature_token=configuration.get("signatureToken"),
            configuration=configuration,
            raw=dict(obj),
        )


def unwrap(body: Any) -> Any:
    """Strip Lever's ``data`` envelope, once, twice or not at all (brief §7.8).

    The docs show ``{"data": {"data": {...}}}`` for webhook creation, real code sees one level, and
    feedback/template creation examples have none; every caller goes through here.
    """
    while isinstance(body, Mapping) and "data" in body and set(body) <= {"data", "next", "hasNext"}:
        body = body["data"]
    return body


def to_millis(value: int | float | datetime | None) -> int | None:
    """Lever timestamps are integer milliseconds since the epoch."""
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware datetime")
        return int(value.timestamp() * 1000)
    return int(value)


def field_values(fields: Mapping[str, Any] | Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Accept ``{field_id: value}`` or ``[{"id", "value"}]`` and return Lever's list form."""
    if isinstance(fields, Mapping):
        return [{"id": key, "value": value} for key, value in fields.items()]
    return [{"id": item["id"], "value": item.get("value")} for item in fields]


class LeverClient(BaseClient):
    """Lever Data API v1 client for one connection (OAuth bearer or a Basic API key)."""

    provider = "lever"

    def __init__(
        self,
        base_url: str = PRODUCTION_API_URL,
        access_token: str | None = None,
        *,
        refresh_token: str | None = None,
        expires_at: float | None = None,
        oauth: LeverOAuthApp | None = None,
        on_token_refresh: Callable[[TokenSet], None] | None = None,
        api_key: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(base_url, **kwargs)
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.expires_at = expires_at
        self.oauth = oauth
        self.on_token_refresh = on_token_refresh
        self.api_key = api_key

    # -- auth ----------------------------------------------------------------------------------

    def auth_headers(self) -> dict[str, str]:
        if self.access_token:
            return {"Authorization": f"Bearer {self.access_token}"}
        if self.api_key:
            # Reference: https://hire.lever.co/developer/documentation#authentication
            # Single-customer API keys go as the Basic username with an empty password.
            encoded = base64.b64encode(f"{self.api_key}:".encode()).decode("ascii")
            return {"Authorization": f"Basic {encoded}"}
        return {}

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send an API request; on a 401 refresh the access token once and try again."""
        if not kwargs.get("authenticate", True):
            return super().request(method, path, **kwargs)
        if self._can_refresh() and self.expires_at is not None:
            if time.time() >= self.expires_at - REFRESH_SKEW_SECONDS:
                self.refresh_access_token()
        try:
            return super().request(method, path, **kwargs)
        except AuthError:
            if not self._can_refresh():
                raise
            logger.info("integrations.lever.token.refresh_on_401 path=%s", path)
            self.refresh_access_token()
            return super().request(method, path, **kwargs)

    def _can_refresh(self) -> bool:
        return bool(self.oauth and self.refresh_token)

    def refresh_access_token(self) -> TokenSet:
        """Refresh, adopt the new tokens, and hand them to ``on_token_refresh`` to persist.

        If the callback raises, the error propagates: the old refresh token is already spent, so a
        caller that cannot store the new one must know at once.
        """
        if not self.refresh_token:
            raise AuthError("no refresh token; the customer must reconnect Lever")
        tokens = self.refresh(self.refresh_token)
        self.access_token = tokens.access_token
        self.refresh_token = tokens.refresh_token
        self.expires_at = tokens.expires_at
        if self.on_token_refresh is not None:
            self.on_token_refresh(tokens)
        return tokens

    # -- OAuth ---------------------------------------------------------------------------------

    def _app(self) -> LeverOAuthApp:
        if self.oauth is None:
            raise PermanentProviderError("LeverClient needs oauth=LeverOAuthApp(...) for OAuth")
        return self.oauth

    def audience(self) -> str:
        # The audience must name the API host, with the trailing slash the docs use (brief §7.10).
        return self._app().audience or f"{self.base_url}/"

    def authorize_url(
        self, state: str, redirect_uri: str, scopes: Sequence[str] = DEFAULT_SCOPES
    ) -> str:
        """Return the consent URL; ``offline_access`` in scopes is what yields a refresh token."""
        # Reference: https://hire.lever.co/developer/documentation#authentication
        app = self._app()
        query = {
            "client_id": app.client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "state": state,
            "audience": self.audience(),
            "scope": " ".join(scopes),
        }
        return f"{app.auth_url.rstrip('/')}/authorize?{urlencode(query)}"

    def exchange_code(self, code: str, redirect_uri: str) -> TokenSet:
        """Trade the callback's ``code`` for tokens (and adopt them on this client)."""
        # Reference: https://hire.lever.co/developer/documentation#authentication
        app = self._app()
        tokens = self._token_request(
            {
                "grant_type": "authorization_code",
                "client_id": app.client_id,
                "client_secret": app.client_secret,
                "code": code,
                "redirect_uri": redirect_uri,
            }
        )
        self.access_token, self.refresh_token = tokens.access_token, tokens.refresh_token
        self.expires_at = tokens.expires_at
        return tokens

    def refresh(self, refresh_token: str) -> TokenSet:
        """Exchange a refresh token; the response carries a NEW refresh token (brief §7.9)."""
        # Reference: https://hire.lever.co/developer/documentation#authentication
        app = self._app()
        body = {
            "grant_type": "refresh_token",
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "refresh_token": refresh_token,
        }
        return self._token_request(body, previous_refresh_token=refresh_token)

    def _token_request(
        self, form: Mapping[str, str], previous_refresh_token: str | None = None
    ) -> TokenSet:
        url = f"{self._app().auth_url.rstrip('/')}/oauth/token"
        try:
            # Never repeated on a 5xx: a code is single-use and a refresh token may have rotated.
            response = super().request(
                "POST", url, data=dict(form), authenticate=False, idempotent=False
            )
        except ProviderError as exc:
            # Auth0 answers a spent/revoked grant with 403 {"error": "invalid_grant"}.
            if exc.code in {"invalid_grant", "access_denied", "unauthorized_client"}:
                raise AuthError(exc.message, status_code=exc.status_code, code=exc.code) from exc
            raise
        body = response.json()
        if not isinstance(body, Mapping) or "access_token" not in body:
            raise PermanentProviderError("token response without access_token")
        return TokenSet.from_response(body, previous_refresh_token)

    # -- pagination ----------------------------------------------------------------------------

    def _paginate(
        self, path: str, params: Mapping[str, Any] | None = None, limit: int = 100
    ) -> Iterator[dict[str, Any]]:
        """Yield every item across pages, following ``next`` while ``hasNext`` is true."""
        # Reference: https://hire.lever.co/developer/documentation#pagination
        query: list[tuple[str, Any]] = _query(params)
        query.append(("limit", max(1, min(100, limit))))
        offset: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            page_query = query + ([("offset", offset)] if offset else [])
            body = self.get_json(path, params=page_query)
            if isinstance(body, list):  # no envelope at all: a single page
                yield from body
                return
            items = unwrap(body)
            yield from items if isinstance(items, list) else [items]
            offset = body.get("next") if isinstance(body, Mapping) else None
            if not body.get("hasNext") or not offset:
                return
            if offset in seen:
                raise ProviderError(f"Lever pagination did not advance on {path}")
            seen.add(offset)
        raise ProviderError(f"Lever pagination exceeded {MAX_PAGES} pages on {path}")

    # -- reads ---------------------------------------------------------------------------------

    def list_stages(self) -> list[dict[str, Any]]:
        # Reference: https://hire.lever.co/developer/documentation#stages
        return list(self._paginate("/stages"))

    def list_postings(self, *, state: str | None = None, **filters: Any) -> Iterator[dict]:
        # Reference: https://hire.lever.co/developer/documentation#list-all-postings
        return self._paginate("/postings", {"state": state, **filters})

    def list_users(self, *, email: str | None = None, **filters: Any) -> Iterator[dict]:
        # Reference: https://hire.lever.co/developer/documentation#users
        return self._paginate("/users", {"email": email, **filters})

    def get_opportunity(
        self, opportunity_id: str, expand: Sequence[str] = DEFAULT_OPPORTUNITY_EXPAND
    ) -> dict[str, Any]:
        """Fetch one opportunity; ``expand=applications`` gives ``applications[0].posting``."""
        # Reference: https://hire.lever.co/developer/documentation#retrieve-a-single-opportunity
        params = [("expand", value) for value in expand]
        return unwrap(self.get_json(f"/opportunities/{opportunity_id}", params=params))

    def list_opportunities(
        self,
        *,
        updated_at_start: int | datetime | None = None,
        updated_at_end: int | datetime | None = None,
        advanced_at_start: int | datetime | None = None,
        advanced_at_end: int | datetime | None = None,
        stage_id: str | Sequence[str] | None = None,
        posting_id: str | Sequence[str] | None = None,
        tag: str | Sequence[str] | None = None,
        email: str | None = None,
        archived: bool | None = None,
        expand: Sequence[str] = (),
        limit: int = 100,
    ) -> Iterator[dict[str, Any]]:
        """Iterate opportunities over all pages (used by reconciliation)."""
        # Reference: https://hire.lever.co/developer/documentation#list-all-opportunities
        params = {
            "updated_at_start": to_millis(updated_at_start),
            "updated_at_end": to_millis(updated_at_end),
            "advanced_at_start": to_millis(advanced_at_start),
            "advanced_at_end": to_millis(advanced_at_end),
            "stage_id": stage_id,
            "posting_id": posting_id,
            "tag": tag,
            "email": email,
            "archived": None if archived is None else str(archived).lower(),
            "expand": list(expand),
        }
        return self._paginate("/opportunities", params, limit)

    # -- tags and notes ------------------------------------------------------------------------

    def add_tags(
        self, opportunity_id: str, tags: Sequence[str], *, perform_as: str | None = None
    ) -> dict[str, Any]:
        # Reference: https://hire.lever.co/developer/documentation#update-tags
        return unwrap(
            self.post_json(
                f"/opportunities/{opportunity_id}/addTags",
                params=_query({"perform_as": perform_as}),
                json={"tags": list(tags)},
            )
        )

    def remove_tags(
        self, opportunity_id: str, tags: Sequence[str], *, perform_as: str | None = None
    ) -> dict[str, Any]:
        # Reference: https://hire.lever.co/developer/documentation#update-tags
        return unwrap(
            self.post_json(
                f"/opportunities/{opportunity_id}/removeTags",
                params=_query({"perform_as": perform_as}),
                json={"tags": list(tags)},
            )
        )

    def add_note(
        self,
        opportunity_id: str,
        value: str,
        *,
        perform_as: str | None = None,
        secret: bool = False,
        score: int | None = None,
        notify_followers: bool = False,
        created_at: int | datetime | None = None,
    ) -> str:
        """Create a note and return its id. ``@username`` in ``value`` notifies that user."""
        # Reference: https://hire.lever.co/developer/documentation#notes
        body: dict[str, Any] = {
            "value": value,
            "secret": secret,
            "notifyFollowers": notify_followers,
        }
        if score is not None:
            body["score"] = score
        if created_at is not None:
            body["createdAt"] = to_millis(created_at)
        result = unwrap(
            self.post_json(
                f"/opportunities/{opportunity_id}/notes",
                params=_query({"perform_as": perform_as}),
                json=body,
            )
        )
        return str(result.get("noteId") or result.get("id"))

    def list_notes(self, opportunity_id: str) -> list[dict[str, Any]]:
        """Every note on an opportunity (write-backs check these before adding one)."""
        # Reference: https://hire.lever.co/developer/documentation#list-all-notes
        return list(self._paginate(f"/opportunities/{opportunity_id}/notes"))

    # -- feedback templates --------------------------------------------------------------------

    def list_feedback_templates(self) -> list[dict[str, Any]]:
        # Reference: https://hire.lever.co/developer/documentation#list-all-feedback-templates
        return list(self._paginate("/feedback_templates"))

    def get_feedback_template(self, template_id: str) -> dict[str, Any]:
        # Reference: https://hire.lever.co/developer/documentation#retrieve-a-feedback-template
        return unwrap(self.get_json(f"/feedback_templates/{template_id}"))

    def create_feedback_template(
        self,
        text: str,
        fields: Sequence[Mapping[str, Any]],
        *,
        instructions: str | None = None,
        group: str | None = None,
    ) -> dict[str, Any]:
        """Create a template; the response assigns each field the ``id`` to store."""
        # Reference: https://hire.lever.co/developer/documentation#create-a-feedback-template
        if sum(1 for f in fields if f.get("type") == SCORE_SYSTEM) != 1:
            # Lever rejects templates without exactly one score-system field (brief §7.11).
            raise ValueError("a Lever feedback template needs exactly one score-system field")
        body: dict[str, Any] = {"text": text, "fields": [dict(f) for f in fields]}
        if instructions is not None:
            body["instructions"] = instructions
        if group is not None:
            body["group"] = group
        # Docs show this response without the data envelope; unwrap() takes either.
        return unwrap(self.post_json("/feedback_templates", json=body))

    def delete_feedback_template(self, template_id: str) -> None:
        """Delete a template (only ones created through the API can be deleted)."""
        # Reference: https://hire.lever.co/developer/documentation#delete-a-feedback-template
        self.delete(f"/feedback_templates/{template_id}")

    # -- feedback forms ------------------------------------------------------------------------

    def list_feedback(self, opportunity_id: str) -> list[dict[str, Any]]:
        # Reference: https://hire.lever.co/developer/documentation#feedback
        return list(self._paginate(f"/opportunities/{opportunity_id}/feedback"))

    def create_feedback(
        self,
        opportunity_id: str,
        template_id: str,
        fields: Mapping[str, Any] | Iterable[Mapping[str, Any]],
        perform_as: str,
        *,
        completed_at: int | datetime | None = None,
        panel: str | None = None,
        interview: str | None = None,
    ) -> dict[str, Any]:
        """Post a completed feedback form from a template; returns the form (with its ``id``).

        ``fields`` ids must be the template's field ids and option values must match exactly.
        """
        # Reference: https://hire.lever.co/developer/documentation#feedback
        if not perform_as:
            raise ValueError("perform_as (a Lever user id) is required to create feedback")
        if (panel is None) != (interview is None):
            raise ValueError("panel and interview must be given together or not at all")
        body: dict[str, Any] = {"baseTemplateId": template_id, "fieldValues": field_values(fields)}
        if completed_at is not None:
            body["completedAt"] = to_millis(completed_at)
        if panel is not None:
            body["panel"], body["interview"] = panel, interview
        return unwrap(
            self.post_json(
                f"/opportunities/{opportunity_id}/feedback",
                params=[("perform_as", perform_as)],
                json=body,
            )
        )

    def update_feedback(
        self,
        opportunity_id: str,
        feedback_id: str,
        fields: Mapping[str, Any] | Iterable[Mapping[str, Any]],
        perform_as: str,
        *,
        completed_at: int | datetime | None = None,
    ) -> dict[str, Any]:
        """Replace a feedback form's field values (how a recruiter's verdict reaches Lever).

        Send EVERY field, not just the changed one: whether Lever merges or replaces omitted
        fields is unconfirmed, and our fake replaces. If Lever refuses the update, the fallback is
        ``add_note`` with the verdict plus ``add_tags``.
        """
        # Reference: https://hire.lever.co/developer/documentation#feedback
        if not perform_as:
            raise ValueError("perform_as (a Lever user id) is required to update feedback")
        body: dict[str, Any] = {"fieldValues": field_values(fields)}
        if completed_at is not None:
            body["completedAt"] = to_millis(completed_at)
        return unwrap(
            self.put_json(
                f"/opportunities/{opportunity_id}/feedback/{feedback_id}",
                params=[("perform_as", perform_as)],
                json=body,
            )
        )

    def delete_feedback(self, opportunity_id: str, feedback_id: str, perform_as: str) -> None:
        # Reference: https://hire.lever.co/developer/documentation#feedback
        self.delete(
            f"/opportunities/{opportunity_id}/feedback/{feedback_id}",
            params=[("perform_as", perform_as)],
        )

    # -- webhooks ------------------------------------------------------------------------------

    def list_webhooks(self) -> list[LeverWebhook]:
        """List webhooks; ``signature_token`` is None here (Lever shows it only on create)."""
        # Reference: https://hire.lever.co/developer/documentation#webhooks
        return [LeverWebhook.from_api(item) for item in self._paginate("/webhooks")]

    def create_webhook(
        self,
        url: str,
        event: str,
        *,
        configuration: Mapping[str, Any] | None = None,
        origins: Sequence[str] | None = None,
    ) -> LeverWebhook:
        """Register a webhook and return it with its signature token (store it now).

        Deliveries start only after a Lever Super Admin enables the event's webhook group in
        Settings (brief §7.4); API-created webhooks can be changed only through the API (§7.5).
        """
        # Reference: https://hire.lever.co/developer/documentation#webhooks
        body: dict[str, Any] = {"url": url, "event": event}
        config = dict(configuration or {})
        if origins is not None:
            config.setdefault("conditions", {})["origins"] = list(origins)
        if config:
            body["configuration"] = config
        created = LeverWebhook.from_api(unwrap(self.post_json("/webhooks", json=body)))
        if not created.signature_token:
            logger.warning("integrations.lever.webhook.no_signature_token id=%s", created.id)
        return created

    def delete_webhook(self, webhook_id: str) -> None:
        # Reference: https://hire.lever.co/developer/documentation#webhooks
        self.delete(f"/webhooks/{webhook_id}")


def _query(params: Mapping[str, Any] | None) -> list[tuple[str, Any]]:
    """Flatten a dict into query pairs: drop None, repeat keys for lists (``expand=a&expand=b``)."""
    pairs: list[tuple[str, Any]] = []
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, list | tuple | set):
            pairs.extend((key, item) for item in value)
        else:
            pairs.append((key, value))
    return pairs


__all__ = [
    "DEFAULT_SCOPES",
    "LeverClient",
    "LeverOAuthApp",
    "LeverWebhook",
    "TokenSet",
    "field_values",
    "to_millis",
    "unwrap",
]
