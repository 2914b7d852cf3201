"""Feedback template and form rules, as the brief says real Lever enforces them.

Exactly one score-system field per template, known field types, options where the type needs
them, field values that are ids of the template's fields and that match each field's type.
"""

from __future__ import annotations

import uuid
from typing import Any

from .messages import bad, now_ms

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


def build_template(tid: str, body: dict) -> dict:
    text, fields = body.get("text"), body.get("fields")
    if not isinstance(text, str) or not text.strip():
        raise bad("text is required")
    if not isinstance(fields, list) or not all(isinstance(f, dict) for f in fields):
        raise bad("fields must be a list of objects")
    if sum(1 for f in fields if f.get("type") == "score-system") != 1:
        raise bad("Feedback templates must have exactly one score-system field")
    built = []
    for spec in fields:
        ftype = spec.get("type")
        if ftype not in FIELD_TYPES:
            raise bad(f"Unknown field type {ftype!r}")
        if not isinstance(spec.get("text"), str) or not spec["text"]:
            raise bad("Every field needs a text")
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
                raise bad(f"Field {spec['text']!r} needs options [{{text}}]")
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


def feedback_values(template: dict, values: Any) -> dict[str, Any]:
    if not isinstance(values, list):
        raise bad("fieldValues must be a list of {id, value}")
    by_id = {f["id"]: f for f in template["fields"]}
    out: dict[str, Any] = {}
    for item in values:
        fid = item.get("id") if isinstance(item, dict) else None
        if fid not in by_id:
            raise bad(f"fieldValues id {fid!r} is not a field of template {template['id']}")
        if fid in out:
            raise bad(f"fieldValues id {fid} given twice")
        problem = check_value(by_id[fid], item.get("value"))
        if problem:
            raise bad(f"Field {by_id[fid]['text']!r}: {problem}")
        out[fid] = item.get("value")
    for f in template["fields"]:
        if f["required"] and out.get(f["id"]) in (None, "", []):
            raise bad(f"Field {f['text']!r} is required")
    return out


def check_value(spec: dict, value: Any) -> str | None:
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
