"""The in-memory store behind one lock: configuration, assessments, logs and violations.

Every mixin in this package subclasses ``Store``; ``router.FakeAshby`` composes them. Handlers that
call the partner release the lock while the call is in flight, because the partner may call
``assessment.update`` back before it answers.
"""

from __future__ import annotations

import copy
import threading
import uuid
from typing import Any

from integrations.fakekit import ApiError, now_ms

DEFAULT_PARTNER_KEY = "ashby-fake-partner-key"
DEFAULT_API_KEY = "ashby-fake-api-key"
KEY_FIELDS = ("username", "password")
LOG_LIMIT = 500  # calls and received requests kept (the newest); assessments are all kept


def new_id() -> str:
    return str(uuid.uuid4())


class Store:
    def __init__(self, base_url: str, *, partner_url: str | None = None,
                 partner_key: str = DEFAULT_PARTNER_KEY,
                 api_keys: list[str] | tuple[str, ...] | str = (DEFAULT_API_KEY,),
                 key_field: str = "username", partner_timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.initial_config = {"partner_url": partner_url, "partner_key": partner_key,
                               "api_keys": api_keys, "key_field": key_field,
                               "partner_timeout": partner_timeout}
        self.config: dict[str, Any] = {}
        self.reset()

    def reset(self) -> None:
        """Forget everything the fake saw and go back to the configuration it started with."""
        with self.lock:
            self.config = {}
            self.configure(dict(self.initial_config))
            self.assessment_types: list[dict] = []
            self.assessments: dict[str, dict] = {}
            self.applications: dict[str, dict] = {}
            self.candidates: dict[str, dict] = {}
            self.refusals: list[dict] = []
            self.calls: list[dict] = []
            self.received: list[dict] = []
            self.completed_to_candidate: list[dict] = []
            self.violations: list[dict] = []
            self.faults: list[dict] = []
            self.default_job = {"ashby_id": new_id(), "name": "Backend Engineer",
                                "req_id": "REQ-42"}

    def configure(self, changes: dict) -> dict:
        """Apply any subset of the configuration; unknown or malformed values are a 400."""
        unknown = set(changes) - {"partner_url", "partner_key", "api_keys", "key_field",
                                  "partner_timeout"}
        if unknown:
            raise ApiError(400, f"unknown configuration {sorted(unknown)}")
        update = dict(changes)
        if "partner_url" in update:
            url = (update["partner_url"] or "").strip().rstrip("/") or None
            if url is not None and not url.startswith(("http://", "https://")):
                raise ApiError(400, "partner_url must start with http:// or https://")
            update["partner_url"] = url
        if "partner_key" in update and not (isinstance(update["partner_key"], str)
                                            and update["partner_key"]):
            raise ApiError(400, "partner_key must be a non-empty string")
        if "api_keys" in update:
            keys = update["api_keys"]
            if isinstance(keys, str):  # one key, or a comma-separated list from the HTML form
                keys = [k.strip() for k in keys.split(",")]
            if not isinstance(keys, list | tuple) or not all(isinstance(k, str) for k in keys):
                raise ApiError(400, "api_keys must be a list of strings")
            update["api_keys"] = [k for k in keys if k]
        if "key_field" in update and update["key_field"] not in KEY_FIELDS:
            raise ApiError(400, f"key_field must be one of {', '.join(KEY_FIELDS)}")
        if "partner_timeout" in update:
            try:
                update["partner_timeout"] = min(max(float(update["partner_timeout"]), 0.1), 60.0)
            except (TypeError, ValueError):
                raise ApiError(400, "partner_timeout must be a number of seconds") from None
        with self.lock:
            self.config.update(update)
            return dict(self.config)

    # --- records ---------------------------------------------------------------------------

    def violate(self, call: str, errors: list[str]) -> None:
        if errors:
            with self.lock:
                self.violations.append({"at_ms": now_ms(), "call": call, "errors": list(errors)})

    def log(self, bucket: list[dict], entry: dict) -> dict:
        with self.lock:
            bucket.append(entry)
            del bucket[:-LOG_LIMIT]
        return entry

    def last_timestamp(self, assessment: dict) -> int | None:
        """Only accepted updates are kept, so the newest one's timestamp is the bar to clear."""
        return assessment["updates"][-1]["body"]["timestamp"] if assessment["updates"] else None

    def new_assessment(self, assessment_id: str, start: dict) -> dict:
        record = {
            "assessment_id": assessment_id,
            "assessment_type_id": start["assessment_type_id"],
            "application_id": start["application"]["ashby_id"],
            "candidate": start["candidate"],
            "job": start["job"],
            "updates": [],
            "status": None,
            "result": None,
            "profile_url": None,
            "metadata": [],
            "cancelled_reason": None,
            "completed": False,
            "cancelled": False,
            "cancelled_by": None,
            "starts": 1,
            "created_at_ms": now_ms(),
        }
        self.assessments[assessment_id] = record
        return record

    def snapshot(self) -> dict:
        """A deep copy, taken under the lock, so serialising it races with nothing."""
        with self.lock:
            return copy.deepcopy({
                "config": dict(self.config),
                "base_url": self.base_url,
                "assessment_types": self.assessment_types,
                "assessments": list(self.assessments.values()),
                "applications": list(self.applications.values()),
                "refusals": self.refusals,
                "calls": self.calls,
                "received": self.received,
                "completed_to_candidate": self.completed_to_candidate,
                "violations": self.violations,
                "faults": self.faults,
            })
