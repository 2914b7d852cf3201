"""The /_control routes that tests and demos use to drive the fake (faults are in ``faults``)."""

from __future__ import annotations

from .messages import ApiError, Reply, Request, bad
from .oauth import OAuth, all_scopes
from .webhooks import Webhooks


class Control(Webhooks, OAuth):
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

    def ctl_settings(self, req: Request) -> Reply:
        body = req.json()
        unknown = set(body) - set(self.settings)
        if unknown:
            raise bad(f"Unknown settings {sorted(unknown)}")
        if body.get("response_shape", "real") not in ("real", "docs"):
            raise bad("response_shape must be 'real' or 'docs'")
        groups = body.pop("webhook_groups", None)
        if groups:
            self.settings["webhook_groups"].update(groups)
        self.settings.update(body)
        return Reply(200, {"data": self.settings})

    def ctl_tokens(self, req: Request) -> Reply:
        """Mint tokens without the browser dance (for seed data and tests)."""
        body = req.json()
        scopes = body.get("scopes") or all_scopes()
        return Reply(201, self.issue_tokens(list(scopes), body.get("ttl")))

    def ctl_expire_tokens(self, req: Request) -> Reply:
        for token in self.access_tokens.values():
            token["expires_at"] = 0
        return Reply(200, {"expired": len(self.access_tokens)})
