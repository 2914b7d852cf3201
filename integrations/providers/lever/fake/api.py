"""The /v1 routes for stages, postings, users, opportunities, tags, stage moves and notes.

Feedback and templates live in ``feedback``, webhook subscriptions in ``webhooks``; both use
the paging and response shaping defined here.
"""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import quote, unquote

from .messages import ApiError, Reply, Request, bad, now_ms
from .state import Store


class Api(Store):
    def _page_of(self, req: Request, items: list[dict]) -> Reply:
        try:
            limit = int(req.arg("limit") or 100)
        except ValueError:
            raise bad("limit must be an integer") from None
        if not 1 <= limit <= 100:
            raise bad("limit must be between 1 and 100")
        start, offset = 0, req.arg("offset")
        if offset:
            try:
                _, last_id = json.loads(unquote(offset))
                start = [i["id"] for i in items].index(last_id) + 1
            except (ValueError, TypeError):
                raise bad("Invalid offset token") from None
        chunk = items[start : start + limit]
        body: dict[str, Any] = {"data": chunk, "hasNext": start + limit < len(items)}
        if body["hasNext"]:
            body["next"] = quote(json.dumps([chunk[-1].get("createdAt", 0), chunk[-1]["id"]]))
        return Reply(200, body)

    def _shaped(self, obj: dict, kind: str) -> dict:
        """Shape create responses like the docs' examples when asked (brief §7.8)."""
        if self.settings["response_shape"] == "docs":
            return {"data": {"data": obj}} if kind == "webhook" else obj
        return {"data": obj}

    # -- reads ---------------------------------------------------------------------------------

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
                raise bad("timestamps must be integers (ms)") from None
            out.append(opp)
        reply = self._page_of(req, sorted(out, key=lambda o: (o["createdAt"], o["id"])))
        expand = req.query.get("expand", [])
        reply.body["data"] = [self._render_opportunity(o, expand) for o in reply.body["data"]]
        return reply

    def api_opportunity(self, req: Request, oid: str) -> Reply:
        opp = self._opportunity(oid)
        return Reply(200, {"data": self._render_opportunity(opp, req.query.get("expand", []))})

    # -- writes --------------------------------------------------------------------------------

    def api_tags(self, req: Request, oid: str, action: str) -> Reply:
        opp = self._opportunity(oid)
        tags = req.json().get("tags")
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise bad("tags must be a list of strings")
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
            raise bad("value is required and must be a non-empty string")
        if score is not None and (type(score) is not int or not 1 <= score <= 4):
            raise bad("score must be an integer from 1 to 4")
        created = body.get("createdAt", now_ms())
        if type(created) is not int or created > now_ms() + 60_000:
            raise bad("createdAt must be a timestamp in ms, not in the future")
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
