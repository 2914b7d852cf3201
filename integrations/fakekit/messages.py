"""Request, Reply, ApiError and the millisecond clock: the vocabulary every fake shares."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs


def now_ms() -> int:
    return int(time.time() * 1000)


class ApiError(Exception):
    """Raised inside a fake's handler; the fake turns it into its ATS's error body."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


@dataclass
class Reply:
    status: int
    body: Any = None  # dict/list -> JSON, str -> HTML, None -> empty
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    @property
    def is_form(self) -> bool:
        return self.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")

    def json(self, *, allow_list: bool = False) -> Any:
        if self.is_form:
            return {k: v[-1] for k, v in parse_qs(self.body.decode()).items()}
        if not self.body.strip():
            return {}
        try:
            parsed = json.loads(self.body)
        except ValueError as exc:
            raise ApiError(400, f"Invalid JSON body: {exc}") from None
        if not isinstance(parsed, dict) and not (allow_list and isinstance(parsed, list)):
            raise ApiError(400, "The JSON body must be an object")
        return parsed
