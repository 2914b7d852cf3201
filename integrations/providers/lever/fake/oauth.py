"""OAuth as Lever's Auth0 host does it, plus the bearer and API-key check on every /v1 call.

Authorization codes are single use; refresh tokens rotate (each works exactly once); the
audience must be the API host; only ``offline_access`` earns a refresh token.
"""

from __future__ import annotations

import base64
import html
import re
import secrets
import time
from urllib.parse import urlencode

from .messages import ApiError, Reply, Request
from .page import html_page
from .state import FAKE_API_KEY, Store


class OAuth(Store):
    def _authorize(self, req: Request, scope: str) -> None:
        header = req.headers.get("authorization", "")
        kind, _, credential = header.partition(" ")
        if kind.lower() == "basic":
            try:
                username = base64.b64decode(credential).decode().partition(":")[0]
            except ValueError:
                username = ""
            if username == FAKE_API_KEY:
                return  # API keys carry every permission
        elif kind.lower() == "bearer":
            token = self.access_tokens.get(credential.strip())
            if token is not None and token["expires_at"] > time.time():
                resource, _, action = scope.partition(":")
                wanted = {f"{resource}:{action}:admin", f"{resource}:write:admin"}
                if not wanted & token["scopes"]:
                    raise ApiError(403, f"Token lacks scope {resource}:{action}:admin")
                return
        raise ApiError(401, "Invalid or expired access token")

    def _check_authorize(self, params: dict[str, str]) -> str | None:
        if params.get("client_id") != self.client_id:
            return f"Unknown client_id {params.get('client_id')!r}"
        if params.get("response_type", "code") != "code":
            return "response_type must be 'code'"
        if not re.match(r"https?://", params.get("redirect_uri", "")):
            return "redirect_uri is required"
        if not params.get("state"):
            return "state is required"
        if params.get("audience") != self.audience:
            return f"audience must be {self.audience!r} (got {params.get('audience')!r})"
        return None

    def oauth_authorize_page(self, req: Request) -> Reply:
        params = {k: v[-1] for k, v in req.query.items()}
        problem = self._check_authorize(params)
        if problem:
            return Reply(400, html_page("Authorization error", f"<p>{html.escape(problem)}</p>"))
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in params.items()
        )
        scopes = "".join(
            f"<li><code>{html.escape(s)}</code></li>" for s in params.get("scope", "").split()
        )
        body = (
            f"<p><b>Assay</b> wants to access your Lever account:</p><ul>{scopes}</ul>"
            f'<form method="post" action="/oauth/authorize">{hidden}'
            '<button name="decision" value="approve" id="approve">Approve</button> '
            '<button name="decision" value="deny" id="deny">Deny</button></form>'
        )
        return Reply(200, html_page("Authorize Assay", body))

    def oauth_authorize_decision(self, req: Request) -> Reply:
        params = req.json()
        problem = self._check_authorize(params)
        if problem:
            return Reply(400, html_page("Authorization error", f"<p>{html.escape(problem)}</p>"))
        redirect = params["redirect_uri"]
        sep = "&" if "?" in redirect else "?"
        if params.get("decision") != "approve":
            query = {
                "error": "access_denied",
                "error_description": "The user denied access",
                "state": params["state"],
            }
            return Reply(302, None, {"Location": redirect + sep + urlencode(query)})
        code = secrets.token_urlsafe(24)
        self.codes[code] = {
            "redirect_uri": redirect,
            "scopes": params.get("scope", "").split(),
            "expires_at": time.time() + 600,
        }
        query = {"code": code, "state": params["state"]}
        return Reply(302, None, {"Location": redirect + sep + urlencode(query)})

    def oauth_token(self, req: Request) -> Reply:
        form = req.json()
        client_id, secret = form.get("client_id"), form.get("client_secret")
        kind, _, credential = req.headers.get("authorization", "").partition(" ")
        if kind.lower() == "basic":
            try:
                client_id, _, secret = base64.b64decode(credential).decode().partition(":")
            except ValueError:
                client_id = secret = None
        if client_id != self.client_id or secret != self.client_secret:
            return Reply(401, {"error": "access_denied", "error_description": "Unauthorized"})
        grant = form.get("grant_type")
        if grant == "authorization_code":
            code = self.codes.pop(form.get("code", ""), None)  # single use
            if code is None or code["expires_at"] < time.time():
                return _oauth_error("invalid_grant", "Invalid authorization code")
            if code["redirect_uri"] != form.get("redirect_uri"):
                return _oauth_error("invalid_grant", "redirect_uri does not match")
            return Reply(200, self.issue_tokens(code["scopes"]))
        if grant == "refresh_token":
            record = self.refresh_tokens.get(form.get("refresh_token", ""))
            if record is None or record["used"]:
                return _oauth_error("invalid_grant", "Unknown or invalid refresh token.")
            record["used"] = True  # rotation: every refresh token works exactly once
            return Reply(200, self.issue_tokens(record["scopes"]))
        return Reply(
            400,
            {
                "error": "unsupported_grant_type",
                "error_description": f"Unsupported grant_type {grant!r}",
            },
        )

    def issue_tokens(self, scopes: list[str], ttl: int | None = None) -> dict:
        ttl = int(self.settings["access_token_ttl"] if ttl is None else ttl)
        access = "fake-at-" + secrets.token_urlsafe(32)
        self.access_tokens[access] = {"scopes": set(scopes), "expires_at": time.time() + ttl}
        body = {
            "access_token": access,
            "token_type": "Bearer",
            "scope": " ".join(scopes),
            "expires_in": ttl,
        }
        if "offline_access" in scopes:  # no offline_access, no refresh token (as with Auth0)
            refresh = "fake-rt-" + secrets.token_urlsafe(32)
            self.refresh_tokens[refresh] = {"scopes": list(scopes), "used": False}
            body["refresh_token"] = refresh
        return body


def _oauth_error(error: str, description: str) -> Reply:
    # Auth0 (Lever's OAuth host) answers a bad grant with 403, not the RFC's 400.
    return Reply(403, {"error": error, "error_description": description})


def all_scopes() -> list[str]:
    resources = ("opportunities", "notes", "feedback", "feedback_templates", "webhooks")
    return [
        "offline_access",
        "stages:read:admin",
        "postings:read:admin",
        "users:read:admin",
        "tags:read:admin",
        *(f"{r}:write:admin" for r in resources),
    ]
