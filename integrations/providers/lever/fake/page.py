"""The human page at ``/``: candidates, stages, notes, forms, webhooks and recent deliveries."""

from __future__ import annotations

import html

from .messages import Reply, Request
from .state import Store


def html_page(title: str, body: str, refresh: int | None = None) -> str:
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    return (
        f"<!doctype html><html><head><meta charset=utf-8>{meta}<title>{html.escape(title)}"
        f'</title></head><body style="font-family:sans-serif"><h1>{html.escape(title)}</h1>'
        f"{body}</body></html>"
    )


class Page(Store):
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
        return Reply(200, html_page("Fake Lever", body, refresh=5))
