"""The page at ``/``: the state and forms for list, start, cancel, faults and configuration.

Server-rendered with plain form posts (no JavaScript), so a person running ``make run`` can play
Ashby by hand. Everything shown is escaped.
"""

from __future__ import annotations

import html
import json

from integrations.fakekit import Reply, Request

from .partner import STATUSES
from .state import Store


def _json(value: object, limit: int = 300) -> str:
    return html.escape(json.dumps(value, sort_keys=True)[:limit])


class Page(Store):
    def page_index(self, req: Request) -> Reply:
        e = html.escape
        state = self.snapshot()
        config = state["config"]
        types = "".join(f'<option value="{e(str(t.get("assessment_type_id")))}">'
                        f'{e(str(t.get("name")))}</option>' for t in state["assessment_types"])
        type_input = (f'<select name="assessment_type_id">{types}</select>' if types else
                      '<input name="assessment_type_id" placeholder="assessment_type_id" '
                      'required>')
        statuses = "".join(f"<option>{e(s)}</option>" for s in STATUSES)
        rows = []
        for a in reversed(state["assessments"]):
            result = a["result"]
            profile = a["profile_url"]
            link = f'<a href="{e(profile)}">report</a>' if profile else ""
            metadata = ", ".join(f"{m.get('label')}: {m.get('value')}" for m in a["metadata"])
            state_word = ("cancelled" if a["cancelled"] else "completed" if a["completed"]
                          else "open")
            cancel = ("" if a["cancelled"] else
                      '<form method="post" action="/_control/cancel">'
                      f'<input type="hidden" name="assessment_id" value="{e(a["assessment_id"])}">'
                      "<button>Cancel</button></form>")
            rows.append(
                f"<tr><td><code>{e(a['assessment_id'])}</code><br>"
                f"<small>{e(a['assessment_type_id'])}</small></td>"
                f"<td>{e(a['candidate'].get('first_name', ''))} "
                f"{e(a['candidate'].get('last_name', ''))}<br>"
                f"<small>{e(a['candidate'].get('email', ''))}<br>application "
                f"<code>{e(a['application_id'])}</code></small></td>"
                f"<td>{e(state_word)}<br>{e(str(a['status']))}</td>"
                f"<td>{e(str(result['value'])) if result else ''} {link}<br>"
                f"<small>{e(metadata)}</small></td><td>{len(a['updates'])}</td>"
                f"<td>{cancel}</td></tr>")
        violations = "".join(
            f"<li><b>{e(v['call'])}</b>: {e('; '.join(v['errors']))}</li>"
            for v in reversed(state["violations"][-50:]))
        calls = "".join(
            f"<li>{e(c['call'])} → {e(str(c['response']['status']))} "
            f"<small>{_json(c['response']['body'])}</small></li>"
            for c in reversed(state["calls"][-20:]))
        received = "".join(
            f"<li>{e(r['route'])} ← {e(str(r['status']))} <small>{_json(r['body'])}"
            f"</small></li>" for r in reversed(state["received"][-20:]))
        body = (
            f"<p>Partner: <code>{e(str(config['partner_url']))}</code> "
            f"(key in the Basic {e(config['key_field'])}). Ashby API keys accepted: "
            f"<code>{e(', '.join(config['api_keys']))}</code>. "
            f"The partner calls <code>{e(self.base_url)}/assessment.update</code>.</p>"
            '<form method="post" action="/_control/list"><button>assessment.list</button></form>'
            '<form method="post" action="/_control/start">assessment.start: '
            f"{type_input} "
            '<input name="first_name" placeholder="First name"> '
            '<input name="last_name" placeholder="Last name"> '
            '<input name="email" type="email" placeholder="Email"> '
            '<input name="application_id" placeholder="application id (to resend)"> '
            f'<select name="application_status">{statuses}</select> '
            "<button>Start</button></form>"
            "<h2>Assessments</h2><table border=1 cellpadding=4><tr><th>Assessment</th>"
            "<th>Candidate</th><th>State</th><th>Result</th><th>Updates</th><th></th></tr>"
            f"{''.join(rows)}</table>"
            f"<h2>Violations</h2><ul>{violations}</ul>"
            f"<h2>Calls to the partner</h2><ul>{calls}</ul>"
            f"<h2>Received</h2><ul>{received}</ul>"
            '<h2>Faults</h2><form method="post" action="/_control/faults">'
            '<select name="route"><option>update</option><option>addCompleted</option></select> '
            '<input name="status" value="429" size=4> <input name="times" value="1" size=3> '
            '<label><input type="checkbox" name="scope" value="integration-partner"> '
            "partner-wide</label> <button>Inject</button></form>"
            '<h2>Configuration</h2><form method="post" action="/_control/configure">'
            '<input name="partner_url" placeholder="partner URL" size=40> '
            '<input name="partner_key" placeholder="partner key"> '
            '<select name="key_field"><option value="">key field</option><option>username'
            "</option><option>password</option></select> "
            '<input name="api_keys" placeholder="Ashby API keys, comma-separated"> '
            "<button>Save</button></form>"
            '<form method="post" action="/_control/reset"><button>Reset</button></form>'
            '<p><a href="/_control/state">JSON state</a></p>'
        )
        page = (
            "<!doctype html><html><head><meta charset=utf-8><title>Fake Ashby</title></head>"
            '<body style="font-family:sans-serif"><h1>Fake Ashby</h1>'
            f'<p><a href="/">Refresh</a></p>{body}</body></html>'
        )
        return Reply(200, page)
