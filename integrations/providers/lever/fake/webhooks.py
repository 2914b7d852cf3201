"""Webhooks: the /v1/webhooks subscriptions and their signed deliveries on background threads.

Deliveries go only to loopback URLs unless ``allow_remote_webhooks`` is set. Each one retries
with growing gaps, and ``stopping`` cuts the waits short so the server stops promptly.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
import secrets
import threading
import urllib.error
import urllib.request
import uuid
from typing import Any
from urllib.parse import urlsplit

from .api import Api
from .messages import ApiError, Reply, Request, bad, now_ms
from .state import WEBHOOK_EVENTS

CONDITION_EVENTS = {
    "applicationCreated",
    "candidateArchiveChange",
    "candidateHired",
    "candidateStageChange",
}
ORIGINS = {"applied", "sourced", "referred", "university", "agency", "internal"}


class Webhooks(Api):
    # -- subscriptions (/v1/webhooks) ----------------------------------------------------------

    def api_webhooks(self, req: Request) -> Reply:
        # Lever does not show the signature token after creation (brief §7.3).
        hidden = [
            {
                **h,
                "configuration": {
                    k: v for k, v in h["configuration"].items() if k != "signatureToken"
                },
            }
            for h in self.webhooks.values()
        ]
        return self._page_of(req, hidden)

    def api_webhook_create(self, req: Request) -> Reply:
        body = req.json()
        url, event = body.get("url"), body.get("event")
        config = body.get("configuration") or {}
        if not isinstance(url, str) or not re.match(r"https?://", url):
            raise bad("url is required and must be an http(s) URL")
        if event not in WEBHOOK_EVENTS:
            raise bad(f"event must be one of {', '.join(WEBHOOK_EVENTS)}")
        if not isinstance(config, dict):
            raise bad("configuration must be an object")
        origins = (config.get("conditions") or {}).get("origins")
        if config.get("conditions") and event not in CONDITION_EVENTS:
            raise bad(f"conditions are not supported for {event}")
        if origins is not None and (not isinstance(origins, list) or set(origins) - ORIGINS):
            raise bad(f"conditions.origins must be a subset of {sorted(ORIGINS)}")
        ts = now_ms()
        hook = {
            "id": str(uuid.uuid4()),
            "url": url,
            "event": event,
            "configuration": {**config, "signatureToken": secrets.token_hex(24)},
            "createdAt": ts,
            "updatedAt": ts,
        }
        self.webhooks[hook["id"]] = hook
        return Reply(201, self._shaped(hook, "webhook"))

    def api_webhook_delete(self, req: Request, wid: str) -> Reply:
        if self.webhooks.pop(wid, None) is None:
            raise ApiError(404, f"Webhook {wid} not found")
        return Reply(204)

    # -- deliveries ----------------------------------------------------------------------------

    def fire_event(
        self, event: str, data: dict, *, opp: dict | None = None, signed: bool = True
    ) -> list[dict]:
        if not self.settings["webhook_groups"].get(event, False):
            return []  # the Super Admin has not switched this webhook group on (brief §7.4)
        sent = []
        for hook in list(self.webhooks.values()):
            origins = (hook["configuration"].get("conditions") or {}).get("origins")
            if hook["event"] != event or (opp and origins and opp.get("origin") not in origins):
                continue
            sent.append(self._send(hook, event, data, signed))
        return sent

    def _send(self, hook: dict, event: str, data: dict, signed: bool = True) -> dict:
        """Build one delivery in the documented shape (brief §2.5) and post it in the background."""
        token, triggered_at = secrets.token_hex(24), now_ms()
        payload: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "triggeredAt": triggered_at,
            "event": event,
            "data": data,
        }
        sig_token = hook["configuration"].get("signatureToken")
        if signed and sig_token:
            # Computed here independently of signatures.py, so the two check each other.
            message = f"{token}{triggered_at}".encode()
            payload["signature"] = hmac.new(sig_token.encode(), message, hashlib.sha256).hexdigest()
        payload["token"] = token
        return self._enqueue_delivery(hook, payload)

    def _enqueue_delivery(self, hook: dict, payload: dict) -> dict:
        delivery = {
            "webhookId": hook["id"],
            "url": hook["url"],
            "event": payload["event"],
            "token": payload["token"],
            "payload": payload,
            "attempts": [],
            "status": "pending",
        }
        self.deliveries.append(delivery)
        thread = threading.Thread(
            target=self._deliver,
            args=(delivery,),
            daemon=True,
            name=f"fake-lever-webhook-{payload['token'][:8]}",
        )
        self.threads = [t for t in self.threads if t.is_alive()] + [thread]
        thread.start()
        return {
            "webhookId": hook["id"],
            "url": hook["url"],
            "token": payload["token"],
            "triggeredAt": payload["triggeredAt"],
        }

    def _deliver(self, delivery: dict) -> None:
        body = json.dumps(delivery["payload"]).encode()
        delays = list(self.settings["webhook_retry_delays"])
        for attempt in range(1, len(delays) + 2):
            status, error = self._post_webhook(delivery["url"], body)
            with self.lock:
                delivery["attempts"].append({"at": now_ms(), "status": status, "error": error})
                ok = status is not None and 200 <= status < 300  # 3xx counts as failure too
                delivery["status"] = "delivered" if ok else "failing"
            if ok or error == "blocked":
                return
            if attempt > len(delays) or self.stopping.wait(delays[attempt - 1]):
                break
        with self.lock:
            delivery["status"] = "failed"

    def _post_webhook(self, url: str, body: bytes) -> tuple[int | None, str | None]:
        host = urlsplit(url).hostname or ""
        if not self.allow_remote_webhooks and not _is_loopback(host):
            return None, "blocked"
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "Lever-Webhooks"},
        )
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(request, timeout=5) as response:
                return response.status, None
        except urllib.error.HTTPError as exc:
            return exc.code, None
        except (OSError, ValueError) as exc:
            return None, f"{type(exc).__name__}: {exc}"


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Lever counts a 3xx answer as a failed delivery; never follow it."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None
