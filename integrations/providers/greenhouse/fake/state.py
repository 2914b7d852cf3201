"""The in-memory store behind one lock: configuration, what Greenhouse holds, and the records.

Every mixin subclasses ``Store``; ``router.FakeGreenhouse`` composes them. The lock guards data
only: calls to the partner are made without holding it, because the partner may call the fake back
(PATCH) while it is answering us.
"""

from __future__ import annotations

import random
import threading
from typing import Any

from integrations.fakekit import ApiError, now_ms

from .rules import is_http_url, key_problem

DEFAULT_KEY = "gh-fake-partner-key"
CALLS = ("list_tests", "send_test", "test_status", "response_error")
KEEP = 1000  # the newest records kept per list, so a long demo does not grow without bound


def _defaults() -> dict[str, Any]:
    return {
        "partner_url": None,  # e.g. http://127.0.0.1:8000/integrations/greenhouse
        "key": DEFAULT_KEY,  # partner-issued; Basic username, empty password
        "urls": {},  # overrides of <partner_url>/<call>, by call name
        "patch_status": 200,  # what the PATCH answers (200 or 204: UNCONFIRMED)
        "status_read_delay": 0.05,  # seconds between answering a PATCH and reading test_status
        "report_errors": True,  # POST violations to response_error, as Greenhouse does
        "timeout": 10.0,  # seconds per call to the partner
    }


class Store:
    def __init__(self, base_url: str, **options: Any) -> None:
        self.base_url = base_url.rstrip("/")
        self.lock = threading.RLock()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.random = random.Random()
        self.initial = self.validate_config({k: v for k, v in options.items() if v is not None})
        self.reset(config=True)

    def reset(self, config: bool = False) -> None:
        with self.lock:
            if config:
                self.config = _defaults() | self.initial
            self.tests: list[dict] = []  # the last valid list_tests
            self.candidates: dict[int, dict] = {}
            self.applications: dict[int, dict] = {}
            self.take_home_tests: dict[int, dict] = {}
            self.exchanges: list[dict] = []  # every call to the partner and its answer
            self.received: list[dict] = []  # every request to the fake's own API
            self.violations: list[dict] = []
            self.faults: list[dict] = []
            self.used_ids: set[int] = set()

    def validate_config(self, body: dict[str, Any]) -> dict[str, Any]:
        """The configure body, checked and normalised; raises ApiError(400) on a bad value."""
        unknown = set(body) - set(_defaults())
        if unknown:
            raise ApiError(400, f"Unknown settings {sorted(unknown)}")
        out = dict(body)
        if out.get("partner_url") is not None:
            if not is_http_url(out["partner_url"]):
                raise ApiError(400, "partner_url must be an absolute http(s) URL")
            out["partner_url"] = out["partner_url"].rstrip("/")
        if "key" in out and key_problem(out["key"]):
            raise ApiError(400, key_problem(out["key"]))
        urls = out.get("urls") or {}
        if not isinstance(urls, dict) or set(urls) - set(CALLS):
            raise ApiError(400, f"urls must be an object with keys from {list(CALLS)}")
        for name, url in urls.items():
            if url is not None and not is_http_url(url):
                raise ApiError(400, f"urls.{name} must be an absolute http(s) URL or null")
        if "urls" in out:
            out["urls"] = urls
        try:
            if "patch_status" in out:
                out["patch_status"] = int(out["patch_status"])
                if not 200 <= out["patch_status"] <= 299:
                    raise ValueError
            for name in ("status_read_delay", "timeout"):
                if name in out:
                    out[name] = min(max(float(out[name]), 0.0), 60.0)
        except (TypeError, ValueError):
            raise ApiError(400, "patch_status must be a 2xx code; status_read_delay and timeout "
                                "numbers of seconds") from None
        if "report_errors" in out:
            out["report_errors"] = out["report_errors"] not in (False, "false", "0", "", None)
        return out

    def configure(self, body: dict[str, Any]) -> dict[str, Any]:
        changes = self.validate_config(body)
        with self.lock:
            urls = changes.pop("urls", None)
            if urls is not None:
                merged = {**self.config["urls"], **urls}
                self.config["urls"] = {k: v for k, v in merged.items() if v}
            self.config.update(changes)
            return self.config_view()

    def partner_urls(self) -> dict[str, str | None]:
        base = self.config["partner_url"]
        return {name: self.config["urls"].get(name) or (f"{base}/{name}" if base else None)
                for name in CALLS}

    def config_view(self) -> dict[str, Any]:
        return {**self.config, "urls": dict(self.config["urls"]),
                "effective_urls": self.partner_urls()}

    def new_id(self) -> int:
        """Greenhouse ids are integers; random ones, so a restarted fake never reuses one."""
        with self.lock:
            while True:
                candidate = self.random.randrange(10_000_000, 100_000_000)
                if candidate not in self.used_ids:
                    self.used_ids.add(candidate)
                    return candidate

    def keep(self, records: list[dict], item: dict) -> dict:
        with self.lock:
            records.append(item)
            del records[:-KEEP]
        return item

    def violation(self, call: str, errors: list[str], **context: Any) -> None:
        if errors:
            self.keep(self.violations, {"at_ms": now_ms(), "call": call, "errors": list(errors),
                                        **context})

    def take_home(self, tid: int | str) -> dict:
        try:
            record = self.take_home_tests.get(int(tid))
        except (TypeError, ValueError):
            record = None
        if record is None:
            raise ApiError(404, f"Take home test {tid} not found")
        return record

    def by_interview_id(self, interview_id: str) -> dict | None:
        return next((t for t in self.take_home_tests.values()
                     if t["partner_interview_id"] == interview_id), None)

    def test_name(self, partner_test_id: str) -> str | None:
        return next((t["partner_test_name"] for t in self.tests
                     if t["partner_test_id"] == partner_test_id), None)

    def start_thread(self, target, *args: Any, name: str) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name=name)
        with self.lock:
            self.threads = [t for t in self.threads if t.is_alive()]
            self.threads.append(thread)
        thread.start()
