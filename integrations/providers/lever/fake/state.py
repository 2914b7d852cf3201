"""The in-memory store behind one lock: constructor, reset, lookups and stage moves.

Every mixin in this package subclasses ``Store`` for its state; ``router.FakeLever`` composes
them, so a call like ``self.fire_event`` here resolves to ``webhooks.Webhooks`` at run time.
"""

from __future__ import annotations

import threading
import uuid
from typing import Any

from .messages import ApiError, bad, now_ms
from .seed import populate

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


class Store:
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
        self.reset()

    @property
    def audience(self) -> str:
        return f"{self.base_url}/v1/"

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
                populate(self)

    def create_opportunity(self, spec: dict) -> dict:
        name = spec.get("name")
        if not isinstance(name, str) or not name.strip():
            raise bad("name is required")
        emails = spec.get("emails") or ([spec["email"]] if spec.get("email") else [])
        if not isinstance(emails, list) or not all(isinstance(e, str) for e in emails):
            raise bad("emails must be a list of strings")
        posting_id = spec.get("posting") or spec.get("posting_id") or next(iter(self.postings))
        if posting_id not in self.postings:
            raise bad(f"Unknown posting {posting_id}")
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
        raise bad(f"Unknown stage {stage_id}")

    def _stage_index(self, stage_id: str) -> int:
        return [s["id"] for s in self.stages].index(stage_id)

    def _opportunity(self, oid: str) -> dict:
        if oid not in self.opportunities:
            raise ApiError(404, f"Opportunity {oid} not found")
        return self.opportunities[oid]

    def _user(self, uid: str | None, what: str = "perform_as") -> dict:
        user = self.users.get(uid or "")
        if user is None or user["deactivatedAt"]:
            raise bad(f"{what} must be the id of an active Lever user (got {uid!r})")
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
