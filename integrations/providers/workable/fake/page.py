"""The human page at ``/``: config, the partner's tests, assessments and their callbacks, and
forms for the main actions, so a person running ``make run`` can play Workable by hand."""

from __future__ import annotations

import html
import json

from integrations.fakekit import Reply, Request

from .state import Store


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


class Page(Store):
    def _page_assessments(self) -> str:
        rows = []
        for a in reversed(list(self.assessments.values())):
            result = a["assessment"] or {}
            url = a["results_url"]
            link = f'<a href="{_e(url)}">{_e(url)}</a>' if url else ""
            cand = a["candidate"]
            who = f"{cand.get('first_name', '')} {cand.get('last_name', '')}".strip()
            rows.append(
                f"<tr><td><code>{_e(a['id'])}</code><br><small>{_e(a['callback_url'])}</small>"
                f"</td><td>{_e(who)}<br><small>{_e(cand.get('email'))}</small></td>"
                f"<td>{_e(a['test_id'])}</td><td><code>{_e(a['assessment_id'])}</code></td>"
                f"<td><b>{_e(a['status'] or '—')}</b> ({len(a['callbacks'])} callbacks)</td>"
                f"<td>{link}<br>score {_e(result.get('score'))}, grade {_e(result.get('grade'))}"
                f", duration {_e(result.get('duration'))}</td><td>"
                '<form method="post" action="/_control/assessments">'
                f'<input type="hidden" name="callback_url" value="{_e(a["callback_url"])}">'
                "<button>Send again</button></form>"
                f'<form method="post" action="/_control/assessments/{_e(a["id"])}/shared-link">'
                "<button>Shared link</button></form></td></tr>")
        return "".join(rows)

    def page_index(self, req: Request) -> Reply:
        with self.lock:
            cfg = self.config
            tests = "".join(f"<option value=\"{_e(t['id'])}\">{_e(t['name'])}</option>"
                            for t in self.tests or [])
            test_input = (f'<select name="test_id">{tests}</select>' if tests
                          else '<input name="test_id" placeholder="test id" required>')
            last = (f"<h2>Last action</h2><pre>{_e(json.dumps(self.last_action, indent=1))}"
                    "</pre>" if self.last_action else "")
            violations = "".join(
                f"<li><code>{_e(v['call'])}</code>: {_e('; '.join(v['errors']))}</li>"
                for v in reversed(self.violations[-50:]))
            body = (
                f"{last}<h2>Connection</h2>"
                '<form method="post" action="/_control/configure">'
                f'Partner URL <input name="partner_url" size=50 value="{_e(cfg["partner_url"])}"'
                ' placeholder="http://127.0.0.1:8000/integrations/workable"> Provider token '
                f'<input name="provider_token" value="{_e(cfg["provider_token"])}"> Workable '
                'tokens <input name="workable_tokens" '
                f'value="{_e(", ".join(cfg["workable_tokens"]))}"> <button>Save</button></form>'
                '<form method="post" action="/_control/tests"><button>List tests '
                f"(GET /tests)</button> {len(self.tests or [])} known</form>"
                "<h2>Send an assessment</h2>"
                '<form method="post" action="/_control/assessments">'
                f'{test_input} <input name="first_name" placeholder="First name"> '
                '<input name="last_name" placeholder="Last name"> '
                '<input name="email" type="email" placeholder="Email"> '
                '<input name="job_title" placeholder="Job title"> <button>Send (POST '
                "/assessments)</button></form><h2>Assessments</h2>"
                "<table border=1 cellpadding=4><tr><th>Id / callback</th><th>Candidate</th>"
                "<th>Test</th><th>assessment_id</th><th>Status</th><th>Results</th><th></th>"
                f"</tr>{self._page_assessments()}</table>"
                f"<h2>Violations ({len(self.violations)})</h2><ul>{violations}</ul>"
                '<form method="post" action="/_control/reset"><button>Reset</button></form>'
                '<p><a href="/_control/state">JSON state</a></p>')
        page = ("<!doctype html><html><head><meta charset=utf-8>"
                '<meta http-equiv="refresh" content="10"><title>Fake Workable</title></head>'
                '<body style="font-family:sans-serif"><h1>Fake Workable '
                f"<small>({_e(cfg['subdomain'])})</small></h1>{body}</body></html>")
        return Reply(200, page)
