"""The human side: the page at ``/`` to drive the fake by hand, and the candidate and resume pages
that the ``greenhouse_profile_url`` and ``resume_url`` sent to the partner point at.

Server-rendered, no JavaScript; every form posts to a /_control route, which sends the browser
back here (303) with a one-line summary. Everything shown is escaped.
"""

from __future__ import annotations

import html
import json
from typing import Any

from integrations.fakekit import ApiError, Reply, Request, now_ms

from .rules import is_http_url
from .state import Store

e = html.escape


def html_page(title: str, body: str, refresh: int | None = None) -> str:
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    return (f"<!doctype html><html><head><meta charset=utf-8>{meta}<title>{e(title)}</title>"
            '</head><body style="font-family:sans-serif;max-width:75em">'
            f"<h1>{e(title)}</h1>{body}</body></html>")


def _form(action: str, inner: str, button: str, **hidden: Any) -> str:
    fields = "".join(f'<input type="hidden" name="{e(k)}" value="{e(str(v))}">'
                     for k, v in hidden.items())
    return (f'<form method="post" action="{e(action)}" style="display:inline">{fields}{inner} '
            f"<button>{e(button)}</button></form>")


def _link(url: Any) -> str:
    return f'<a href="{e(url)}">{e(url)}</a>' if is_http_url(url) else e(str(url))


class Page(Store):
    def page_index(self, req: Request) -> Reply:
        with self.lock:
            body = self._page_body(req)
        return Reply(200, html_page("Fake Greenhouse", body, refresh=10))

    def _page_body(self, req: Request) -> str:
        cfg, urls = self.config, self.partner_urls()
        message = req.arg("message")
        flash = f'<p style="background:#ffd;padding:.5em">{e(message)}</p>' if message else ""
        url_list = "".join(f"<li>{e(k)}: {e(str(v))}</li>" for k, v in urls.items())
        patch_opts = "".join(f'<option{" selected" if cfg["patch_status"] == s else ""}>{s}'
                             "</option>" for s in (200, 204))
        configure = _form(
            "/_control/configure",
            f'Partner URL <input name="partner_url" size=50 value="{e(cfg["partner_url"] or "")}">'
            f' Key <input name="key" size=30 value="{e(cfg["key"])}"> PATCH answers '
            f'<select name="patch_status">{patch_opts}</select>', "Save")
        tests = "".join(f"<li><code>{e(t['partner_test_id'])}</code> {e(t['partner_test_name'])}"
                        "</li>" for t in self.tests)
        if self.tests:
            choose = "".join(f'<option value="{e(t["partner_test_id"])}">'
                             f"{e(t['partner_test_name'])}</option>" for t in self.tests)
            test_input = f'<select name="partner_test_id">{choose}</select>'
        else:
            test_input = '<input name="partner_test_id" placeholder="partner_test_id" required>'
        send = _form(
            "/_control/send_test",
            f'{test_input} <input name="first_name" placeholder="First name"> '
            '<input name="last_name" placeholder="Last name"> '
            '<input name="email" type="email" placeholder="Email (optional)"> '
            '<input name="sent_by" type="email" placeholder="Sent by (optional)">', "Send test")
        rows = "".join(self._row(t) for t in reversed(self.take_home_tests.values()))
        violations = "".join(
            f"<li>{e(v['call'])}: {e('; '.join(v['errors']))}</li>"
            for v in reversed(self.violations[-50:]))
        exchanges = "".join(
            f"<li>{e(x['call'])}: {e(x['method'])} {e(x['url'])} → "
            f"{e(str(x['status'] or x['error']))}"
            + (f" <b>{e('; '.join(x['errors']))}</b>" if x["errors"] else "") + "</li>"
            for x in reversed(self.exchanges[-30:]))
        fault = _form("/_control/faults",
                      'Next <input name="times" value="1" size=2> PATCH(es) answer '
                      '<input name="status" value="503" size=3>', "Inject", route="patch")
        return (
            f"{flash}<h2>Partner</h2><p>{configure}</p><ul>{url_list}</ul>"
            f"<h2>Tests</h2><p>{_form('/_control/list_tests', '', 'List tests')}</p>"
            f"<ul>{tests}</ul><h2>Send a test</h2><p>{send}</p>"
            "<h2>Take-home tests</h2><table border=1 cellpadding=4><tr><th>Id</th><th>Test</th>"
            "<th>Candidate</th><th>partner_interview_id</th><th>Status</th><th>Result</th>"
            f"<th>PATCHes / reads</th><th></th></tr>{rows}</table>"
            f"<h2>Violations ({len(self.violations)})</h2><ul>{violations}</ul>"
            f"<h2>Calls to the partner</h2><ul>{exchanges}</ul>"
            f"<h2>Faults</h2><p>{fault} {len(self.faults)} pending</p>"
            f"<p>{_form('/_control/reset', '', 'Reset (keeps the configuration)')} "
            '<a href="/_control/state">JSON state</a></p>')

    def _row(self, t: dict) -> str:
        c, result = t["candidate"], t["result"] or {}
        name = f"{c.get('first_name') or ''} {c.get('last_name') or ''}".strip()
        result_html = ""
        if result:
            result_html = (f"score {e(json.dumps(result.get('partner_score')))}<br>"
                           f"{_link(result.get('partner_profile_url'))}<br><small>"
                           f"{e(json.dumps(result.get('metadata')))}</small>")
        actions = _form("/_control/send_test", "", "Send again",
                        partner_test_id=t["partner_test_id"], application_id=t["application_id"])
        if t["partner_interview_id"]:
            actions += " " + _form("/_control/test_status", "", "Read status",
                                   partner_interview_id=t["partner_interview_id"])
        return (f"<tr><td>{t['id']}</td><td><code>{e(t['partner_test_id'])}</code></td>"
                f"<td>{e(name)}<br><small>{e(str(c.get('email')))}</small></td>"
                f"<td><code>{e(str(t['partner_interview_id']))}</code></td>"
                f"<td>{e(str(t['status']))}</td><td>{result_html}</td>"
                f"<td>{len(t['patches'])} / {len(t['status_reads'])}</td><td>{actions}</td></tr>")

    def page_person(self, req: Request, cid: str) -> Reply:
        """Where greenhouse_profile_url points: the candidate and their take-home tests."""
        with self.lock:
            candidate = self.candidates.get(int(cid))
            if candidate is None:
                raise ApiError(404, f"Candidate {cid} not found")
            tests = [t for t in self.take_home_tests.values()
                     if t["candidate"].get("email") == candidate.get("email")]
            items = "".join(f"<li><code>{e(t['partner_test_id'])}</code>: {e(str(t['status']))}"
                            f" {_link((t['result'] or {}).get('partner_profile_url'))}</li>"
                            for t in tests)
            name = f"{candidate.get('first_name') or ''} {candidate.get('last_name') or ''}"
            body = (f"<p>{e(str(candidate.get('email')))}</p><h2>Take-home tests</h2>"
                    f'<ul>{items}</ul><p><a href="/">Back</a></p>')
        return Reply(200, html_page(name.strip() or f"Candidate {cid}", body))

    def page_resume(self, req: Request, cid: str) -> Reply:
        """Where resume_url points; like Greenhouse's, the link expires (after 7 days)."""
        try:
            expires = int(req.arg("expires") or 0)
        except ValueError:
            expires = 0
        with self.lock:
            candidate = self.candidates.get(int(cid))
        if candidate is None:
            raise ApiError(404, f"Resume {cid} not found")
        if expires * 1000 < now_ms():
            raise ApiError(410, "This resume link has expired")
        name = f"{candidate.get('first_name') or ''} {candidate.get('last_name') or ''}".strip()
        return Reply(200, html_page(f"Resume: {name}", "<p>(A fake resume.)</p>"))
