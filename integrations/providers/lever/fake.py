"""A runnable fake Lever (OAuth + Data API v1 + signed webhooks) for tests and demos.

Standard library only, in-memory, one lock. It enforces the rules the brief says real Lever enforces
(exactly one score-system field per template, perform_as on feedback, template field ids, rotating
single-use refresh tokens, audience = API host) so our code meets them here first. Run it with
``python -m integrations.providers.lever.fake --port 8089`` or ``run_fake_lever(host, port)``.
Webhooks go only to loopback URLs unless ``allow_remote_webhooks`` is set.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import html
import ipaddress
import json
import logging
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

logger = logging.getLogger("integrations.lever.fake")

FAKE_CLIENT_ID = "assay-fake-lever-client"
FAKE_CLIENT_SECRET = "assay-fake-lever-secret"
FAKE_API_KEY = "assay-fake-lever-api-key"
WEBHOOK_EVENTS = (
    "applicationCreated",
    "candidateHired",
    "candidateStageChange",
    "candidateArchiveChange",
    "candidateDeleted",
    "interviewCreated",
    "interviewUpdated",
    "interviewDeleted",
    "contactCreated",
    "contactUpdated",
)
CONDITION_EVENTS = {
    "applicationCreated",
    "candidateArchiveChange",
    "candidateHired",
    "candidateStageChange",
}
ORIGINS = {"applied", "sourced", "referred", "university", "agency", "internal"}
FIELD_TYPES = {
    "code",
    "currency",
    "date",
    "dropdown",
    "multiple-choice",
    "multiple-select",
    "score-system",
    "score",
    "scorecard",
    "text",
    "textarea",
    "yes-no",
}
OPTION_TYPES = {"dropdown", "multiple-choice", "multiple-select", "score-system"}
DEFAULT_SCORE_OPTIONS = ("4 - Strong Hire", "3 - Hire", "2 - No Hire", "1 - Strong No Hire")
SEED_NAMESPACE = uuid.UUID("6f1c2d1e-4a53-4c1b-9d7e-1e5a1f0c0a11")
ERROR_CODES = {
    400: "BadRequestError",
    401: "UnauthorizedError",
    403: "ForbiddenError",
    404: "ResourceNotFound",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
}


def now_ms() -> int:
    return int(time.time() * 1000)


def seed_id(name: str) -> str:
    """Stable ids for seed data, so a restarted fake keeps the ids a demo stored."""
    return str(uuid.uuid5(SEED_NAMESPACE, name))


class ApiError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


@dataclass
class Reply:
    status: int
    body: Any = None  # dict/list -> JSON, str -> HTML
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    @property
    def is_form(self) -> bool:
        return self.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")

    def json(self) -> Any:
        if self.is_form:
            return {k: v[-1] for k, v in parse_qs(self.body.decode()).items()}
        if not self.body.strip():
            return {}
        try:
            parsed = json.loads(self.body)
        except ValueError as exc:
            raise ApiError(400, f"Invalid JSON body: {exc}") from None
        if not isinstance(parsed, dict):
            raise ApiError(400, "The JSON body must be an object")
        return parsed


def _bad(message: str) -> ApiError:
    return ApiError(400, message)


class FakeLever:
    """All state and behaviour; ``dispatch(Request) -> Reply`` is the whole HTTP surface."""

    def __init__(
        self,
        base_url: str,
        *,
        client_id: str = FAKE_CLIENT_ID,
        client_secret: str = FAKE_CLIENT_SECRET,
        allow_remote_webhooks: bool = False,
    ):
        self.base_url = base_url.rstrip("/")
        self.client_id, self.client_secret = client_id, client_secret
        self.allow_remote_webhooks = allow_remote_webhooks
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.routes = self._routes()
        self.reset()

    @property
    def audience(self) -> str:
        return f"{self.base_url}/v1/"

    # -- state ---------------------------------------------------------------------------------

    def reset(self, seed: bool = True) -> None:
        with self.lock:
            self.stages: list[dict] = []
            self.postings: dict[str, dict] = {}
            self.users: dict[str, dict] = {}
            self.opportunities: dict[str, dict] = {}
            self.applications: dict[str, dict] = {}
            self.notes: dict[str, list[dict]] = {}
            self.feedback: dict[str, list[dict]] = {}
            self.templates: dict[str, dict] = {}
            self.api_template_ids: set[str] = set()
            self.webhooks: dict[str, dict] = {}
            self.deliveries: list[dict] = []
            self.codes: dict[str, dict] = {}
            self.access_tokens: dict[str, dict] = {}
            self.refresh_tokens: dict[str, dict] = {}
            self.faults: list[dict] = []
            self.settings: dict[str, Any] = {
                "response_shape": "real",  # "docs": the doc examples' nesting (brief §7.8)
                "access_token_ttl": 3600,
                "webhook_retry_delays": [0.5, 1.0, 2.0, 4.0],  # 5 attempts, growing gaps
                "webhook_groups": dict.fromkeys(WEBHOOK_EVENTS, True),
            }
            if seed:
                self._seed()

    def _seed(self) -> None:
        t0 = now_ms() - 30 * 86_400_000
        for name in (
            "New lead",
            "Reached out",
            "New applicant",
            "Phone Screen",
            "On-site interview",
            "Offer",
        ):
            self.stages.append({"id": seed_id(f"stage:{name}"), "text": name})
        for i, (name, email, role) in enumerate(
            [
                ("Riley Recruiter", "riley.recruiter@example.com", "super admin"),
                ("Sam Hiring-Manager", "sam.manager@example.com", "team member"),
            ]
        ):
            uid = seed_id(f"user:{email}")
            self.users[uid] = {
                "id": uid,
                "name": name,
                "username": email.split("@")[0],
                "email": email,
                "accessRole": role,
                "photo": None,
                "createdAt": t0 + i,
                "deactivatedAt": None,
                "externalDirectoryId": None,
                "linkedContactIds": [],
            }
        riley, sam = list(self.users)
        for i, (title, team, tags) in enumerate(
            [
                ("Senior Backend Engineer", "Engineering", ["assay"]),
                ("Customer Success Manager", "Customer Success", []),
            ]
        ):
            pid = seed_id(f"posting:{title}")
            self.postings[pid] = {
                "id": pid,
                "text": title,
                "state": "published",
                "distributionChannels": ["public"],
                "user": riley,
                "owner": riley,
                "hiringManager": sam,
                "tags": tags,
                "categories": {
                    "team": team,
                    "department": team,
                    "location": "Remote",
                    "commitment": "Full-time",
                    "allLocations": ["Remote"],
                },
                "workplaceType": "remote",
                "createdAt": t0 + i,
                "updatedAt": t0 + i,
                "urls": {
                    "list": f"{self.base_url}/jobs",
                    "show": f"{self.base_url}/jobs/{pid}",
                    "apply": f"{self.base_url}/jobs/{pid}/apply",
                },
            }
        posting_ids = list(self.postings)
        self.create_opportunity(
            {
                "name": "Ada Lovelace",
                "emails": ["ada@example.com"],
                "posting": posting_ids[0],
                "id": seed_id("opp:ada"),
            }
        )
        self.create_opportunity(
            {
                "name": "Grace Hopper",
                "emails": ["grace@example.org"],
                "posting": posting_ids[1],
                "stage_id": self.stages[1]["id"],
                "id": seed_id("opp:grace"),
            }
        )
        tid = seed_id("template:phone-screen")
        self.templates[tid] = self._build_template(
            tid,
            {
                "text": "Phone Screen Feedback",
                "instructions": "Filled in by the interviewer.",
                "fields": [
                    {"type": "score-system", "text": "Overall rating", "required": True},
                    {"type": "textarea", "text": "Notes", "required": False},
                ],
            },
        )

    def create_opportunity(self, spec: dict) -> dict:
        name = spec.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _bad("name is required")
        emails = spec.get("emails") or ([spec["email"]] if spec.get("email") else [])
        if not isinstance(emails, list) or not all(isinstance(e, str) for e in emails):
            raise _bad("emails must be a list of strings")
        posting_id = spec.get("posting") or spec.get("posting_id") or next(iter(self.postings))
        if posting_id not in self.postings:
            raise _bad(f"Unknown posting {posting_id}")
        stage_id = spec.get("stage_id") or self.stages[0]["id"]
        self._stage(stage_id)
        posting = self.postings[posting_id]
        oid, ts = spec.get("id") or str(uuid.uuid4()), now_ms()
        app_id = str(uuid.uuid4())
        self.applications[app_id] = {
            "id": app_id,
            "type": "posting",
            "candidateId": oid,
            "opportunityId": oid,
            "posting": posting_id,
            "postingHiringManager": posting["hiringManager"],
            "postingOwner": posting["owner"],
            "user": None,
            "name": None,
            "email": None,
            "phone": None,
            "company": None,
            "links": [],
            "comments": None,
            "customQuestions": [],
            "createdAt": ts,
            "archived": None,
            "requisitionForHire": None,
        }
        self.opportunities[oid] = {
            "id": oid,
            "name": name.strip(),
            "headline": spec.get("headline", ""),
            "contact": str(uuid.uuid4()),
            "emails": emails,
            "phones": [{"type": "mobile", "value": p} for p in spec.get("phones", [])],
            "confidentiality": "non-confidential",
            "location": spec.get("location", ""),
            "links": [],
            "stage": stage_id,
            "stageChanges": [
                {
                    "toStageId": stage_id,
                    "toStageIndex": self._stage_index(stage_id),
                    "updatedAt": ts,
                    "userId": posting["owner"],
                }
            ],
            # Opportunities inherit their posting's tags (Lever's assessment use case, step 1).
            "tags": list(dict.fromkeys([*posting["tags"], *spec.get("tags", [])])),
            "sources": ["Job site"],
            "origin": spec.get("origin", "applied"),
            "sourcedBy": None,
            "owner": posting["owner"],
            "followers": [posting["owner"]],
            "applications": [app_id],
            "createdAt": ts,
            "updatedAt": ts,
            "lastInteractionAt": ts,
            "lastAdvancedAt": ts,
            "snoozedUntil": None,
            "archived": None,
            "isAnonymized": False,
            "dataProtection": None,
            "urls": {
                "list": f"{self.base_url}/candidates",
                "show": f"{self.base_url}/candidates/{oid}",
            },
        }
        self.notes[oid], self.feedback[oid] = [], []
        return self.opportunities[oid]

    def _stage(self, stage_id: str | None) -> dict:
        for stage in self.stages:
            if stage["id"] == stage_id:
                return stage
        raise _bad(f"Unknown stage {stage_id}")

    def _stage_index(self, stage_id: str) -> int:
        return [s["id"] for s in self.stages].index(stage_id)

    def _opportunity(self, oid: str) -> dict:
        if oid not in self.opportunities:
            raise ApiError(404, f"Opportunity {oid} not found")
        return self.opportunities[oid]

    def _user(self, uid: str | None, what: str = "perform_as") -> dict:
        user = self.users.get(uid or "")
        if user is None or user["deactivatedAt"]:
            raise _bad(f"{what} must be the id of an active Lever user (got {uid!r})")
        return user

    def move_stage(
        self, oid: str, stage_id: str, *, user_id: str | None = None, signed: bool = True
    ) -> list[dict]:
        """Move an opportunity and fire candidateStageChange like Lever does."""
        opp = self._opportunity(oid)
        self._stage(stage_id)
        from_stage = opp["stage"]
        if from_stage == stage_id:
            return []
        ts = now_ms()
        opp["stage"], opp["updatedAt"], opp["lastAdvancedAt"] = stage_id, ts, ts
        opp["stageChanges"].append(
            {
                "toStageId": stage_id,
                "toStageIndex": self._stage_index(stage_id),
                "updatedAt": ts,
                "userId": user_id or opp["owner"],
            }
        )
        data = {
            "opportunityId": oid,
            "candidateId": oid,
            "contactId": opp["contact"],
            "toStageId": stage_id,
            "fromStageId": from_stage,
        }
        return self.fire_event("candidateStageChange", data, opp=opp, signed=signed)

    # -- webhooks out --------------------------------------------------------------------------

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

    # -- dispatch ------------------------------------------------------------------------------

    def _routes(self) -> list[tuple[str, re.Pattern[str], Callable[..., Reply], str | None]]:
        table = [
            ("GET", r"/", self.page_index, None),
            ("GET", r"/(?:oauth/)?authorize", self.oauth_authorize_page, None),
            ("POST", r"/(?:oauth/)?authorize", self.oauth_authorize_decision, None),
            ("POST", r"/oauth/token", self.oauth_token, None),
            ("GET", r"/v1/stages", self.api_stages, "stages:read"),
            ("GET", r"/v1/stages/([^/]+)", self.api_stage, "stages:read"),
            ("GET", r"/v1/postings", self.api_postings, "postings:read"),
            ("GET", r"/v1/postings/([^/]+)", self.api_posting, "postings:read"),
            ("GET", r"/v1/users", self.api_users, "users:read"),
            ("GET", r"/v1/users/([^/]+)", self.api_user, "users:read"),
            ("GET", r"/v1/opportunities", self.api_opportunities, "opportunities:read"),
            ("GET", r"/v1/opportunities/([^/]+)", self.api_opportunity, "opportunities:read"),
            (
                "POST",
                r"/v1/opportunities/([^/]+)/(addTags|removeTags)",
                self.api_tags,
                "opportunities:write",
            ),
            (
                "PUT",
                r"/v1/opportunities/([^/]+)/stage",
                self.api_stage_change,
                "opportunities:write",
            ),
            ("GET", r"/v1/opportunities/([^/]+)/notes", self.api_notes, "notes:read"),
            ("POST", r"/v1/opportunities/([^/]+)/notes", self.api_note_create, "notes:write"),
            ("GET", r"/v1/opportunities/([^/]+)/feedback", self.api_feedback_list, "feedback:read"),
            (
                "POST",
                r"/v1/opportunities/([^/]+)/feedback",
                self.api_feedback_create,
                "feedback:write",
            ),
            (
                "GET",
                r"/v1/opportunities/([^/]+)/feedback/([^/]+)",
                self.api_feedback_get,
                "feedback:read",
            ),
            (
                "PUT",
                r"/v1/opportunities/([^/]+)/feedback/([^/]+)",
                self.api_feedback_update,
                "feedback:write",
            ),
            (
                "DELETE",
                r"/v1/opportunities/([^/]+)/feedback/([^/]+)",
                self.api_feedback_delete,
                "feedback:write",
            ),
            ("GET", r"/v1/feedback_templates", self.api_templates, "feedback_templates:read"),
            (
                "POST",
                r"/v1/feedback_templates",
                self.api_template_create,
                "feedback_templates:write",
            ),
            (
                "GET",
                r"/v1/feedback_templates/([^/]+)",
                self.api_template,
                "feedback_templates:read",
            ),
            (
                "DELETE",
                r"/v1/feedback_templates/([^/]+)",
                self.api_template_delete,
                "feedback_templates:write",
            ),
            ("GET", r"/v1/webhooks", self.api_webhooks, "webhooks:read"),
            ("POST", r"/v1/webhooks", self.api_webhook_create, "webhooks:write"),
            ("DELETE", r"/v1/webhooks/([^/]+)", self.api_webhook_delete, "webhooks:write"),
            ("GET", r"/_control/state", self.ctl_state, None),
            ("POST", r"/_control/reset", self.ctl_reset, None),
            ("POST", r"/_control/opportunities", self.ctl_create_opportunity, None),
            ("POST", r"/_control/opportunities/([^/]+)/stage", self.ctl_move, None),
            ("POST", r"/_control/webhooks/([^/]+)/test", self.ctl_webhook_test, None),
            ("POST", r"/_control/deliveries/([^/]+)/redeliver", self.ctl_redeliver, None),
            ("POST", r"/_control/faults", self.ctl_faults, None),
            ("DELETE", r"/_control/faults", self.ctl_clear_faults, None),
            ("POST", r"/_control/settings", self.ctl_settings, None),
            ("POST", r"/_control/tokens", self.ctl_tokens, None),
            ("POST", r"/_control/expire_tokens", self.ctl_expire_tokens, None),
        ]
        return [(m, re.compile(p + r"/?\Z"), fn, scope) for m, p, fn, scope in table]

    def dispatch(self, req: Request) -> Reply:
        try:
            if req.path.startswith(("/v1/", "/oauth/token")):
                fault = self._take_fault(req)
                if fault is not None:
                    return fault
            with self.lock:
                for method, pattern, handler, scope in self.routes:
                    match = pattern.match(req.path)
                    if match and method == req.method:
                        if scope is not None:
                            self._authorize(req, scope)
                        return handler(req, *match.groups())
            raise ApiError(404, f"No route for {req.method} {req.path}")
        except ApiError as exc:
            body = {"code": ERROR_CODES.get(exc.status, "Error"), "message": exc.message}
            return Reply(exc.status, body, exc.headers)
        except Exception as exc:  # a bug in the fake must still answer, not drop the socket
            logger.exception("fake-lever error on %s %s", req.method, req.path)
            return Reply(500, {"code": "InternalServerError", "message": repr(exc)})

    def _take_fault(self, req: Request) -> Reply | None:
        with self.lock:
            fault = next(
                (
                    f
                    for f in self.faults
                    if f["count"] > 0
                    and (not f["method"] or f["method"] == req.method)
                    and re.search(f["paths"], req.path)
                ),
                None,
            )
            if fault is None:
                return None
            fault["count"] -= 1
            self.faults = [f for f in self.faults if f["count"] > 0]
        if fault["delay"]:
            self.stopping.wait(fault["delay"])
        if not fault["status"]:
            return None
        headers = {}
        if fault["retry_after"] is not None:
            headers["Retry-After"] = str(fault["retry_after"])
        body = {"code": ERROR_CODES.get(fault["status"], "Error"), "message": "Injected fault"}
        return Reply(fault["status"], body, headers)

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

    # -- OAuth ---------------------------------------------------------------------------------

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
            return Reply(400, _page("Authorization error", f"<p>{html.escape(problem)}</p>"))
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
        return Reply(200, _page("Authorize Assay", body))

    def oauth_authorize_decision(self, req: Request) -> Reply:
        params = req.json()
        problem = self._check_authorize(params)
        if problem:
            return Reply(400, _page("Authorization error", f"<p>{html.escape(problem)}</p>"))
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

    # -- API: reads ----------------------------------------------------------------------------

    def _page_of(self, req: Request, items: list[dict]) -> Reply:
        try:
            limit = int(req.arg("limit") or 100)
        except ValueError:
            raise _bad("limit must be an integer") from None
        if not 1 <= limit <= 100:
            raise _bad("limit must be between 1 and 100")
        start, offset = 0, req.arg("offset")
        if offset:
            try:
                _, last_id = json.loads(unquote(offset))
                start = [i["id"] for i in items].index(last_id) + 1
            except (ValueError, TypeError):
                raise _bad("Invalid offset token") from None
        chunk = items[start : start + limit]
        body: dict[str, Any] = {"data": chunk, "hasNext": start + limit < len(items)}
        if body["hasNext"]:
            body["next"] = quote(json.dumps([chunk[-1].get("createdAt", 0), chunk[-1]["id"]]))
        return Reply(200, body)

    def api_stages(self, req: Request) -> Reply:
        return self._page_of(req, self.stages)

    def api_stage(self, req: Request, sid: str) -> Reply:
        return Reply(200, {"data": self._stage(sid)})

    def api_postings(self, req: Request) -> Reply:
        state = req.arg("state")
        return self._page_of(
            req, [p for p in self.postings.values() if not state or p["state"] == state]
        )

    def api_posting(self, req: Request, pid: str) -> Reply:
        if pid not in self.postings:
            raise ApiError(404, f"Posting {pid} not found")
        return Reply(200, {"data": self.postings[pid]})

    def api_users(self, req: Request) -> Reply:
        email = req.arg("email")
        return self._page_of(
            req,
            [u for u in self.users.values() if not email or u["email"].lower() == email.lower()],
        )

    def api_user(self, req: Request, uid: str) -> Reply:
        if uid not in self.users:
            raise ApiError(404, f"User {uid} not found")
        return Reply(200, {"data": self.users[uid]})

    def _render_opportunity(self, opp: dict, expand: list[str]) -> dict:
        out = dict(opp)
        if "applications" in expand:
            out["applications"] = [self.applications[a] for a in opp["applications"]]
        if "stage" in expand:
            out["stage"] = self._stage(opp["stage"])
        if "contact" in expand:
            out["contact"] = {
                "id": opp["contact"],
                "name": opp["name"],
                "emails": opp["emails"],
                "phones": opp["phones"],
                "headline": opp["headline"],
                "isAnonymized": False,
            }
        if "owner" in expand:
            out["owner"] = self.users.get(opp["owner"])
        return out

    def api_opportunities(self, req: Request) -> Reply:
        def within(value: int, name: str) -> bool:
            start, end = req.arg(f"{name}_start"), req.arg(f"{name}_end")
            return (not start or value >= int(start)) and (not end or value <= int(end))

        wanted = {k: req.query.get(k, []) for k in ("stage_id", "posting_id", "tag", "email")}
        archived = req.arg("archived")
        out = []
        for opp in self.opportunities.values():
            postings = {self.applications[a]["posting"] for a in opp["applications"]}
            if (
                (wanted["stage_id"] and opp["stage"] not in wanted["stage_id"])
                or (wanted["posting_id"] and not postings & set(wanted["posting_id"]))
                or (wanted["tag"] and not set(opp["tags"]) & set(wanted["tag"]))
                or (wanted["email"] and not set(opp["emails"]) & set(wanted["email"]))
                or (archived == "true" and not opp["archived"])
                or (archived == "false" and opp["archived"])
            ):
                continue
            try:
                if not (
                    within(opp["updatedAt"], "updated_at")
                    and within(opp["createdAt"], "created_at")
                    and within(opp["lastAdvancedAt"], "advanced_at")
                ):
                    continue
            except ValueError:
                raise _bad("timestamps must be integers (ms)") from None
            out.append(opp)
        reply = self._page_of(req, sorted(out, key=lambda o: (o["createdAt"], o["id"])))
        expand = req.query.get("expand", [])
        reply.body["data"] = [self._render_opportunity(o, expand) for o in reply.body["data"]]
        return reply

    def api_opportunity(self, req: Request, oid: str) -> Reply:
        opp = self._opportunity(oid)
        return Reply(200, {"data": self._render_opportunity(opp, req.query.get("expand", []))})

    # -- API: writes ---------------------------------------------------------------------------

    def api_tags(self, req: Request, oid: str, action: str) -> Reply:
        opp = self._opportunity(oid)
        tags = req.json().get("tags")
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise _bad("tags must be a list of strings")
        if req.arg("perform_as"):
            self._user(req.arg("perform_as"))
        if action == "addTags":
            opp["tags"] = list(dict.fromkeys([*opp["tags"], *tags]))
        else:
            opp["tags"] = [t for t in opp["tags"] if t not in tags]
        opp["updatedAt"] = now_ms()
        return Reply(200, {"data": opp})

    def api_stage_change(self, req: Request, oid: str) -> Reply:
        stage_id = req.json().get("stage")
        user = self._user(req.arg("perform_as"))["id"] if req.arg("perform_as") else None
        self.move_stage(oid, stage_id, user_id=user)
        return Reply(200, {"data": self.opportunities[oid]})

    def api_notes(self, req: Request, oid: str) -> Reply:
        self._opportunity(oid)
        return self._page_of(req, self.notes[oid])

    def api_note_create(self, req: Request, oid: str) -> Reply:
        self._opportunity(oid)
        body = req.json()
        value, score = body.get("value"), body.get("score")
        if not isinstance(value, str) or not value.strip():
            raise _bad("value is required and must be a non-empty string")
        if score is not None and (type(score) is not int or not 1 <= score <= 4):
            raise _bad("score must be an integer from 1 to 4")
        created = body.get("createdAt", now_ms())
        if type(created) is not int or created > now_ms() + 60_000:
            raise _bad("createdAt must be a timestamp in ms, not in the future")
        user = self._user(req.arg("perform_as"))["id"] if req.arg("perform_as") else None
        note = {
            "id": str(uuid.uuid4()),
            "text": "",
            "user": user,
            "fields": [{"type": "note", "text": "note", "value": value}],
            "secret": bool(body.get("secret", False)),
            "score": score,
            "createdAt": created,
            "completedAt": created,
            "deletedAt": None,
        }
        self.notes[oid].append(note)
        return Reply(201, {"data": {"noteId": note["id"]}})

    def _shaped(self, obj: dict, kind: str) -> dict:
        """Shape create responses like the docs' examples when asked (brief §7.8)."""
        if self.settings["response_shape"] == "docs":
            return {"data": {"data": obj}} if kind == "webhook" else obj
        return {"data": obj}

    def _build_template(self, tid: str, body: dict) -> dict:
        text, fields = body.get("text"), body.get("fields")
        if not isinstance(text, str) or not text.strip():
            raise _bad("text is required")
        if not isinstance(fields, list) or not all(isinstance(f, dict) for f in fields):
            raise _bad("fields must be a list of objects")
        if sum(1 for f in fields if f.get("type") == "score-system") != 1:
            raise _bad("Feedback templates must have exactly one score-system field")
        built = []
        for spec in fields:
            ftype = spec.get("type")
            if ftype not in FIELD_TYPES:
                raise _bad(f"Unknown field type {ftype!r}")
            if not isinstance(spec.get("text"), str) or not spec["text"]:
                raise _bad("Every field needs a text")
            item = {
                "id": str(uuid.uuid4()),
                "type": ftype,
                "text": spec["text"],
                "description": spec.get("description", ""),
                "required": bool(spec.get("required", False)),
            }
            if ftype in OPTION_TYPES:
                options = spec.get("options") or (
                    [{"text": t} for t in DEFAULT_SCORE_OPTIONS] if ftype == "score-system" else []
                )
                if not options or not all(isinstance(o, dict) and o.get("text") for o in options):
                    raise _bad(f"Field {spec['text']!r} needs options [{{text}}]")
                item["options"] = [{"text": o["text"]} for o in options]
            if ftype == "scorecard":
                item["scores"] = spec.get("scores") or []
            built.append(item)
        ts = now_ms()
        group = body.get("group")
        return {
            "id": tid,
            "text": text,
            "instructions": body.get("instructions", ""),
            "group": {"id": group, "name": group} if group else None,
            "stage": None,
            "fields": built,
            "createdAt": ts,
            "updatedAt": ts,
        }

    def api_templates(self, req: Request) -> Reply:
        return self._page_of(req, list(self.templates.values()))

    def api_template(self, req: Request, tid: str) -> Reply:
        if tid not in self.templates:
            raise ApiError(404, f"Feedback template {tid} not found")
        return Reply(200, {"data": self.templates[tid]})

    def api_template_create(self, req: Request) -> Reply:
        template = self._build_template(str(uuid.uuid4()), req.json())
        self.templates[template["id"]] = template
        self.api_template_ids.add(template["id"])
        return Reply(201, self._shaped(template, "template"))

    def api_template_delete(self, req: Request, tid: str) -> Reply:
        if tid not in self.templates:
            raise ApiError(404, f"Feedback template {tid} not found")
        if tid not in self.api_template_ids:
            raise ApiError(403, "Only feedback templates created through the API can be deleted")
        del self.templates[tid]
        return Reply(204)

    def _feedback_values(self, template: dict, values: Any) -> dict[str, Any]:
        if not isinstance(values, list):
            raise _bad("fieldValues must be a list of {id, value}")
        by_id = {f["id"]: f for f in template["fields"]}
        out: dict[str, Any] = {}
        for item in values:
            fid = item.get("id") if isinstance(item, dict) else None
            if fid not in by_id:
                raise _bad(f"fieldValues id {fid!r} is not a field of template {template['id']}")
            if fid in out:
                raise _bad(f"fieldValues id {fid} given twice")
            problem = _check_value(by_id[fid], item.get("value"))
            if problem:
                raise _bad(f"Field {by_id[fid]['text']!r}: {problem}")
            out[fid] = item.get("value")
        for f in template["fields"]:
            if f["required"] and out.get(f["id"]) in (None, "", []):
                raise _bad(f"Field {f['text']!r} is required")
        return out

    def _feedback(self, oid: str, fid: str) -> dict:
        self._opportunity(oid)
        for form in self.feedback[oid]:
            if form["id"] == fid and not form["deletedAt"]:
                return form
        raise ApiError(404, f"Feedback {fid} not found")

    def api_feedback_list(self, req: Request, oid: str) -> Reply:
        self._opportunity(oid)
        return self._page_of(req, [f for f in self.feedback[oid] if not f["deletedAt"]])

    def api_feedback_get(self, req: Request, oid: str, fid: str) -> Reply:
        return Reply(200, {"data": self._feedback(oid, fid)})

    def api_feedback_create(self, req: Request, oid: str) -> Reply:
        self._opportunity(oid)
        if not req.arg("perform_as"):
            raise _bad("perform_as is required to create feedback")
        user = self._user(req.arg("perform_as"))
        body = req.json()
        template = self.templates.get(body.get("baseTemplateId") or "")
        if template is None:
            raise _bad(f"baseTemplateId {body.get('baseTemplateId')!r} is not a feedback template")
        if ("panel" in body) != ("interview" in body):
            raise _bad("panel and interview must be sent together or not at all")
        values = self._feedback_values(template, body.get("fieldValues", []))
        ts = now_ms()
        form = {
            "id": str(uuid.uuid4()),
            "type": "interview",
            "text": template["text"],
            "instructions": template["instructions"],
            "baseTemplateId": template["id"],
            "fields": [{**f, "value": values.get(f["id"])} for f in template["fields"]],
            "user": user["id"],
            "panel": body.get("panel"),
            "interview": body.get("interview"),
            "createdAt": body.get("createdAt", ts),
            "updatedAt": ts,
            "completedAt": body.get("completedAt", ts),
            "deletedAt": None,
        }
        self.feedback[oid].append(form)
        return Reply(201, self._shaped(form, "feedback"))

    def api_feedback_update(self, req: Request, oid: str, fid: str) -> Reply:
        if not req.arg("perform_as"):
            raise _bad("perform_as is required to update feedback")
        self._user(req.arg("perform_as"))
        form = self._feedback(oid, fid)
        body = req.json()
        # Fields left out are cleared: Lever's semantics are unconfirmed, so send them all.
        template = {"id": form["baseTemplateId"], "fields": form["fields"]}
        values = self._feedback_values(template, body.get("fieldValues", []))
        form["fields"] = [{**f, "value": values.get(f["id"])} for f in form["fields"]]
        form["updatedAt"] = now_ms()
        form["completedAt"] = body.get("completedAt", form["completedAt"])
        return Reply(200, {"data": form})

    def api_feedback_delete(self, req: Request, oid: str, fid: str) -> Reply:
        if not req.arg("perform_as"):
            raise _bad("perform_as is required to delete feedback")
        self._user(req.arg("perform_as"))
        self._feedback(oid, fid)["deletedAt"] = now_ms()
        return Reply(204)

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
            raise _bad("url is required and must be an http(s) URL")
        if event not in WEBHOOK_EVENTS:
            raise _bad(f"event must be one of {', '.join(WEBHOOK_EVENTS)}")
        if not isinstance(config, dict):
            raise _bad("configuration must be an object")
        origins = (config.get("conditions") or {}).get("origins")
        if config.get("conditions") and event not in CONDITION_EVENTS:
            raise _bad(f"conditions are not supported for {event}")
        if origins is not None and (not isinstance(origins, list) or set(origins) - ORIGINS):
            raise _bad(f"conditions.origins must be a subset of {sorted(ORIGINS)}")
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

    # -- control API (tests and demos) ---------------------------------------------------------

    def _done(self, req: Request, body: dict, status: int = 200) -> Reply:
        if req.is_form:  # a button on the HTML page: go back to it
            return Reply(303, None, {"Location": "/"})
        return Reply(status, body)

    def ctl_state(self, req: Request) -> Reply:
        return Reply(
            200,
            {
                "stages": self.stages,
                "postings": list(self.postings.values()),
                "users": list(self.users.values()),
                "opportunities": list(self.opportunities.values()),
                "applications": list(self.applications.values()),
                "tags": {oid: o["tags"] for oid, o in self.opportunities.items()},
                "notes": [
                    {**n, "opportunityId": oid} for oid, ns in self.notes.items() for n in ns
                ],
                "feedback": [
                    {**f, "opportunityId": oid} for oid, fs in self.feedback.items() for f in fs
                ],
                "feedback_templates": list(self.templates.values()),
                "webhooks": list(self.webhooks.values()),
                "deliveries": self.deliveries,
                "faults": self.faults,
                "settings": self.settings,
                "tokens": {"access": len(self.access_tokens), "refresh": len(self.refresh_tokens)},
            },
        )

    def ctl_reset(self, req: Request) -> Reply:
        self.reset(seed=bool(req.json().get("seed", True)))
        return self._done(req, {"ok": True})

    def ctl_create_opportunity(self, req: Request) -> Reply:
        spec = req.json()
        if isinstance(spec.get("emails"), str):  # from the HTML form
            spec["emails"] = [spec["emails"]] if spec["emails"] else []
        opp = self.create_opportunity(spec)
        data = {"applicationId": opp["applications"][0], "opportunityId": opp["id"]}
        self.fire_event("applicationCreated", data, opp=opp)
        return self._done(req, {"data": opp}, 201)

    def ctl_move(self, req: Request, oid: str) -> Reply:
        body = req.json()
        signed = body.get("signed", True) not in (False, "false", "0")
        sent = self.move_stage(
            oid, body.get("stage_id"), user_id=body.get("user_id"), signed=signed
        )
        return self._done(
            req, {"data": {"opportunity": self.opportunities[oid], "deliveries": sent}}
        )

    def ctl_webhook_test(self, req: Request, wid: str) -> Reply:
        """Lever's "Test" button: candidateHired with empty data (brief §7.12)."""
        hook = self.webhooks.get(wid)
        if hook is None:
            raise ApiError(404, f"Webhook {wid} not found")
        return Reply(200, {"data": self._send(hook, "candidateHired", {})})

    def ctl_redeliver(self, req: Request, token: str) -> Reply:
        """Send an earlier delivery again, byte for byte (a replay or a Lever retry)."""
        old = next((d for d in self.deliveries if d["token"] == token), None)
        if old is None:
            raise ApiError(404, f"No delivery with token {token}")
        hook = {"id": old["webhookId"], "url": old["url"]}
        return Reply(200, {"data": self._enqueue_delivery(hook, old["payload"])})

    def ctl_faults(self, req: Request) -> Reply:
        body = req.json()
        paths = body.get("paths") or r"^/"
        if isinstance(paths, list):
            paths = "|".join(f"(?:{p})" for p in paths)
        try:
            re.compile(paths)
        except re.error as exc:
            raise _bad(f"paths is not a valid regex: {exc}") from None
        try:
            fault = {
                "status": int(body.get("status") or 0),
                "count": int(body.get("count", 1)),
                "paths": paths,
                "method": (body.get("method") or "").upper() or None,
                "retry_after": body.get("retry_after"),
                "delay": min(float(body.get("delay") or 0), 30.0),
            }
        except (TypeError, ValueError):
            raise _bad("status, count and delay must be numbers") from None
        self.faults.append(fault)
        return Reply(201, {"data": fault})

    def ctl_clear_faults(self, req: Request) -> Reply:
        self.faults = []
        return Reply(204)

    def ctl_settings(self, req: Request) -> Reply:
        body = req.json()
        unknown = set(body) - set(self.settings)
        if unknown:
            raise _bad(f"Unknown settings {sorted(unknown)}")
        if body.get("response_shape", "real") not in ("real", "docs"):
            raise _bad("response_shape must be 'real' or 'docs'")
        groups = body.pop("webhook_groups", None)
        if groups:
            self.settings["webhook_groups"].update(groups)
        self.settings.update(body)
        return Reply(200, {"data": self.settings})

    def ctl_tokens(self, req: Request) -> Reply:
        """Mint tokens without the browser dance (for seed data and tests)."""
        body = req.json()
        scopes = body.get("scopes") or _all_scopes()
        return Reply(201, self.issue_tokens(list(scopes), body.get("ttl")))

    def ctl_expire_tokens(self, req: Request) -> Reply:
        for token in self.access_tokens.values():
            token["expires_at"] = 0
        return Reply(200, {"expired": len(self.access_tokens)})

    # -- the human page ------------------------------------------------------------------------

    def page_index(self, req: Request) -> Reply:
        e = html.escape
        stage_names = {s["id"]: s["text"] for s in self.stages}
        posting_opts = "".join(
            f'<option value="{p["id"]}">{e(p["text"])}</option>' for p in self.postings.values()
        )
        rows = []
        for opp in self.opportunities.values():
            options = "".join(
                f'<option value="{s["id"]}"{" selected" if s["id"] == opp["stage"] else ""}>'
                f"{e(s['text'])}</option>"
                for s in self.stages
            )
            notes = "".join(f"<li>{e(n['fields'][0]['value'])}</li>" for n in self.notes[opp["id"]])
            forms = "".join(
                f"<li><b>{e(f['text'])}</b><ul>"
                + "".join(f"<li>{e(x['text'])}: {e(str(x['value']))}</li>" for x in f["fields"])
                + "</ul></li>"
                for f in self.feedback[opp["id"]]
                if not f["deletedAt"]
            )
            rows.append(
                f"<tr><td>{e(opp['name'])}<br><small>{e(', '.join(opp['emails']))}<br>"
                f"<code>{opp['id']}</code></small></td><td>"
                f'<form method="post" action="/_control/opportunities/{opp["id"]}/stage">'
                f'<select name="stage_id">{options}</select> <button>Move</button></form>'
                f"{e(stage_names.get(opp['stage'], '?'))}</td><td>{e(', '.join(opp['tags']))}</td>"
                f"<td><ul>{notes}</ul></td><td><ul>{forms}</ul></td></tr>"
            )
        hooks = "".join(f"<li>{e(h['event'])} → {e(h['url'])}</li>" for h in self.webhooks.values())
        sent = "".join(
            f"<li>{e(d['event'])} → {e(d['url'])}: {e(d['status'])} "
            f"({', '.join(str(a['status'] or a['error']) for a in d['attempts'])})</li>"
            for d in reversed(self.deliveries[-50:])
        )
        templates = "".join(
            f"<li>{e(t['text'])} ({len(t['fields'])} fields)</li>" for t in self.templates.values()
        )
        body = (
            '<form method="post" action="/_control/opportunities">New candidate: '
            '<input name="name" placeholder="Name" required> '
            '<input name="emails" type="email" placeholder="Email"> '
            f'<select name="posting">{posting_opts}</select> <button>Create</button></form>'
            "<h2>Opportunities</h2><table border=1 cellpadding=4><tr><th>Candidate</th>"
            "<th>Stage</th><th>Tags</th><th>Notes</th><th>Feedback forms</th></tr>"
            f"{''.join(rows)}</table><h2>Feedback templates</h2><ul>{templates}</ul>"
            f"<h2>Webhooks</h2><ul>{hooks}</ul><h2>Recent deliveries</h2><ul>{sent}</ul>"
            '<p><a href="/_control/state">JSON state</a></p>'
        )
        return Reply(200, _page("Fake Lever", body, refresh=5))


def _check_value(spec: dict, value: Any) -> str | None:
    """Validate one fieldValues value against its field type; None means fine."""
    if value is None:
        return None
    ftype, options = spec["type"], {o["text"] for o in spec.get("options", [])}
    if ftype in ("score-system", "dropdown", "multiple-choice"):
        return None if value in options else f"value must be one of {sorted(options)}"
    if ftype == "multiple-select":
        ok = isinstance(value, list) and set(value) <= options
        return None if ok else f"value must be a list drawn from {sorted(options)}"
    if ftype == "score":
        return None if type(value) is int and 1 <= value <= 4 else "value must be 1-4"
    if ftype == "yes-no":
        return None if value in ("yes", "no") else "value must be 'yes' or 'no'"
    if ftype in ("text", "textarea", "code"):
        return None if isinstance(value, str) else "value must be a string"
    if ftype == "date":
        return None if type(value) is int else "value must be a timestamp in ms"
    if ftype == "currency":
        return None if type(value) in (int, float) else "value must be a number"
    if ftype == "scorecard":
        return None if isinstance(value, list) else "value must be a list of {score, comment}"
    return None


def _oauth_error(error: str, description: str) -> Reply:
    # Auth0 (Lever's OAuth host) answers a bad grant with 403, not the RFC's 400.
    return Reply(403, {"error": error, "error_description": description})


def _all_scopes() -> list[str]:
    resources = ("opportunities", "notes", "feedback", "feedback_templates", "webhooks")
    return [
        "offline_access",
        "stages:read:admin",
        "postings:read:admin",
        "users:read:admin",
        "tags:read:admin",
        *(f"{r}:write:admin" for r in resources),
    ]


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _page(title: str, body: str, refresh: int | None = None) -> str:
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    return (
        f"<!doctype html><html><head><meta charset=utf-8>{meta}<title>{html.escape(title)}"
        f'</title></head><body style="font-family:sans-serif"><h1>{html.escape(title)}</h1>'
        f"{body}</body></html>"
    )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Lever counts a 3xx answer as a failed delivery; never follow it."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes; don't stall on ACKs
    server: FakeLeverServer

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        reply = self.server.fake.dispatch(request)
        if isinstance(reply.body, str):
            payload, ctype = reply.body.encode(), "text/html; charset=utf-8"
        elif reply.body is None:
            payload, ctype = b"", None
        else:
            payload, ctype = json.dumps(reply.body).encode(), "application/json; charset=utf-8"
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("fake-lever %s - %s", self.address_string(), format % args)


class FakeLeverServer(ThreadingHTTPServer):
    """The HTTP server, already serving in a daemon thread; ``stop()`` ends everything."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str, port: int, site_url: str | None, **options: Any) -> None:
        super().__init__((host, port), _Handler)
        self.url = f"http://{host}:{self.server_address[1]}"
        self.fake = FakeLever(site_url or self.url, **options)
        self.thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() returns within ~50 ms
            daemon=True,
            name=f"fake-lever-{self.server_address[1]}",
        )

    @property
    def api_url(self) -> str:
        return f"{self.fake.base_url}/v1"

    def stop(self) -> None:
        self.fake.stopping.set()
        self.shutdown()
        self.server_close()
        for thread in [self.thread, *self.fake.threads]:
            thread.join(timeout=6)

    def wait(self) -> None:
        """Block until Ctrl-C (for the CLI and ``manage.py run_fake_ats``)."""
        try:
            while self.thread.is_alive():
                self.thread.join(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()


def run_fake_lever(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    site_url: str | None = None,
    client_id: str = FAKE_CLIENT_ID,
    client_secret: str = FAKE_CLIENT_SECRET,
    allow_remote_webhooks: bool = False,
) -> FakeLeverServer:
    """Start the fake in a background thread and return it (``port=0`` picks a free port).

    ``site_url`` is the fake's own public base URL (links, OAuth audience); it defaults to
    ``http://host:port``. Call ``server.stop()`` (tests) or ``server.wait()`` (CLI) when done.
    """
    server = FakeLeverServer(
        host,
        port,
        site_url,
        client_id=client_id,
        client_secret=client_secret,
        allow_remote_webhooks=allow_remote_webhooks,
    )
    server.thread.start()
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run a fake Lever for local demos and tests.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--site-url", default=None)
    parser.add_argument("--allow-remote-webhooks", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    server = run_fake_lever(
        args.host,
        args.port,
        site_url=args.site_url,
        allow_remote_webhooks=args.allow_remote_webhooks,
    )
    print(f"Fake Lever on {server.url}  (API {server.api_url}, OAuth {server.fake.base_url})")
    print(f"client_id={FAKE_CLIENT_ID} client_secret={FAKE_CLIENT_SECRET} api_key={FAKE_API_KEY}")
    server.wait()


if __name__ == "__main__":
    main()
