"""Our calls to Ashby: `assessment.update` with the customer's API key (brief §4.1, §4.3).

HTTP Basic with the key as username and an empty password, `Accept: application/json;
version=1`, JSON, and a real User-Agent (Cloudflare in front of api.ashbyhq.com refuses empty
or library-default ones with a 403 "error code: 1010", brief §7.19).

One attempt per call (`max_attempts=1`): a retried update must carry a newer timestamp, so
every retry goes back through the outbox, which stamps it again (updates.py). Ashby's answers
map to our error vocabulary as follows:

- 200 `{"success": false, "errors": [...]}` → permanent, with Ashby's messages;
- 401 → AuthError (no key); 403 → AuthError (wrong or deactivated key; or
  `missing_endpoint_permission`: grant candidatesWrite), except Cloudflare's 1010 → permanent;
- 404 → NotFound; 5xx → transient;
- 429 → RateLimited(Retry-After); with `X-RateLimit-Scope: integration-partner` it also pauses
  every Ashby connection (throttle.py).
"""

from __future__ import annotations

import base64
import re

from django.conf import settings

from integrations.errors import AuthError, PermanentProviderError, RateLimited
from integrations.http import BaseClient, build_user_agent, parse_retry_after
from integrations.http import error_message as generic_error_message
from integrations.http import raise_for_response as generic_raise_for_response

from . import throttle

ACCEPT = "application/json; version=1"
PRODUCTION_API_URL = "https://api.ashbyhq.com"
ASHBY_DOMAINS = ["ashbyhq.com"]
PERMISSION = "candidatesWrite"
CLOUDFLARE_1010 = re.compile(r"error\s*(code)?:?\s*1010", re.I)


def messages(body) -> str:
    """Ashby's error list (`errors`, plus `message` when present) as one line."""
    if not isinstance(body, dict):
        return ""
    found = body.get("errors")
    parts = [str(e) for e in found] if isinstance(found, list) else ([str(found)] if found
                                                                      else [])
    if body.get("message") and str(body["message"]) not in parts:
        parts.append(str(body["message"]))
    return "; ".join(parts)


def error_message(response) -> str:
    try:
        text = messages(response.json())
    except ValueError:
        text = ""
    return text or generic_error_message(response)


def raise_for_response(response, user_agent: str = "", message: str | None = None) -> None:
    """Map a failed Ashby answer to our error classes (the module docstring says which)."""
    status = response.status_code
    if 200 <= status < 300:
        return
    message = message or error_message(response)
    text = response.text or ""
    if status == 403:
        if CLOUDFLARE_1010.search(text):
            raise PermanentProviderError(
                "Cloudflare in front of Ashby refused the request (error 1010): it blocks "
                f"empty or library-default User-Agents; we sent {user_agent!r}",
                status_code=403, code="cloudflare_1010")
        if "missing_endpoint_permission" in text:
            raise AuthError(f"the Ashby API key lacks a permission: grant {PERMISSION} to the "
                            f"key in Ashby, then retry ({message})", status_code=403,
                            code="missing_endpoint_permission")
        raise AuthError(f"Ashby refused the API key (wrong or deactivated): {message}",
                        status_code=403)
    if status == 401:
        raise AuthError(f"Ashby asked for an API key (401): {message}", status_code=401)
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if throttle.is_partner_wide(response):
            retry_after = throttle.pause(retry_after)
            message = f"Ashby throttles Assay across all organisations: {message}"
        raise RateLimited(message, retry_after, status_code=429)
    generic_raise_for_response(response, message)


class AshbyClient(BaseClient):
    provider = "ashby"

    def __init__(self, base_url: str, api_key: str, **options) -> None:
        options.setdefault("user_agent", build_user_agent("1", settings.SITE_URL))
        options.setdefault("max_attempts", 1)
        options.setdefault("rate_limiter", throttle.PartnerPause())
        super().__init__(base_url, **options)
        self.api_key = api_key

    def auth_headers(self) -> dict[str, str]:
        if not self.api_key:
            raise AuthError("no Ashby API key on this connection: enter the customer's key "
                            f"(with the {PERMISSION} permission) in the console")
        token = base64.b64encode(f"{self.api_key}:".encode()).decode()
        return {"Authorization": f"Basic {token}", "Accept": ACCEPT,
                "Content-Type": "application/json"}

    def error_message(self, response) -> str:
        return error_message(response)

    def raise_for_response(self, response) -> None:
        raise_for_response(response, self.user_agent, self.error_message(response))

    @property
    def user_agent(self) -> str:
        return self.session.headers.get("User-Agent", "")

    def update(self, body: dict) -> dict:
        """POST /assessment.update; Ashby's `{"success": false}` (often a 200) is permanent."""
        answer = self.post_json("/assessment.update", json=body)
        if isinstance(answer, dict) and answer.get("success") is False:
            raise PermanentProviderError(
                f"Ashby refused the update: {messages(answer) or 'no reason given'}",
                status_code=200)
        return answer if isinstance(answer, dict) else {}
