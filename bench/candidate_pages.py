"""Candidate pages under load: server time of an item page and of an answer save, and the bytes
of a full item page (HTML + CSS + JS). Prints figures; asserts nothing (DESIGN §5: item page
server time p95 <= 20 ms, total transfer <= 50 KB, no third-party requests).

    .venv/bin/python -m config.embedded exec -- .venv/bin/python bench/candidate_pages.py \
        [--clients 6] [--rounds 100] [--workers 2] [--threads 1]

What it does, against the configured database and Redis (DATABASE_URL / REDIS_URL, as
`make run` uses them): migrate, collectstatic and load_catalog (idempotent); create a throwaway
org with one invitation per client; start a real gunicorn (gthread) on a free loopback port;
each client thread opens its link, consents, starts a 116-item Likert test and then alternates
GET item page / POST JSON answer (each answer a real upsert). Server time is gunicorn's own
request duration (access log `%(D)s`, microseconds), so client-side queuing is not counted;
client-observed latency is printed beside it. The org is deleted at the end.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TEST = "big-five-ipip-neo-120"


def _manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _setup(clients: int):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from assessments.invitations import create_invitation
    from tenants.context import platform_context
    from tenants.forms import create_organization
    from tenants.models import User

    slug = f"bench-{secrets.token_hex(4)}"
    with platform_context("bench set-up"):
        owner = User.objects.create_user(f"owner@{slug}.bench", secrets.token_urlsafe(16))
        org = create_organization(name=f"Bench {slug}", slug=slug, owner=owner)
    tokens = [create_invitation(org, candidate={"email": f"c{i}@{slug}.bench"}, tests=[TEST],
                                source="api", send_email=False, sandbox=True)[1]
              for i in range(clients)]
    return org, owner, tokens


def _teardown(org, owner) -> None:
    from tenants.context import platform_context

    with platform_context("bench clean-up"):
        org.delete()
        owner.delete()


class Browser:
    """A minimal cookie-keeping HTTP client on one keep-alive connection."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - started
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response, data, elapsed

    def csrf(self, html: bytes) -> str:
        return re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1).decode()


def _start_candidate(browser: Browser, token: str) -> tuple[str, list[str]]:
    response, _, _ = browser.request("GET", f"/a/{token}")
    assert response.status == 302, response.status
    _, html, _ = browser.request("GET", "/a/")
    form = {"csrfmiddlewaretoken": browser.csrf(html), "consent": "on"}
    body = "&".join(f"{k}={v}" for k, v in form.items())
    ctype = {"Content-Type": "application/x-www-form-urlencoded"}
    response, _, _ = browser.request("POST", "/a/consent", body, ctype)
    assert response.status == 302, response.status
    _, html, _ = browser.request("GET", "/a/t/1/")
    body = f"csrfmiddlewaretoken={browser.csrf(html)}"
    response, _, _ = browser.request("POST", "/a/t/1/", body, ctype)
    assert response.status == 302, response.status
    _, html, _ = browser.request("GET", "/a/t/1/items")
    items = re.findall(rb'<input type="radio" name="([^"]+)"', html)
    return browser.csrf(html), sorted({i.decode() for i in items})


def _client(port, token, rounds, latencies, errors):
    browser = Browser(port)
    try:
        csrf, items = _start_candidate(browser, token)
        headers = {"Content-Type": "application/json", "X-CSRFToken": csrf}
        for n in range(rounds):
            response, _, elapsed = browser.request("GET", "/a/t/1/items")
            latencies["page"].append(elapsed)
            if response.status != 200:
                errors.append(f"page {response.status}")
            body = json.dumps({"item": items[n % len(items)], "value": str(n % 5 + 1),
                               "page": 1, "seconds": 2.5})
            response, data, elapsed = browser.request("POST", "/a/t/1/answer", body, headers)
            latencies["answer"].append(elapsed)
            if response.status != 200:
                errors.append(f"answer {response.status} {data[:100]!r}")
    except Exception as exc:  # noqa: BLE001 - reported, not raised: the bench prints figures
        errors.append(repr(exc))


def _pct(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]


def _transfer(port: int, token: str) -> dict:
    browser = Browser(port)
    _start_candidate(browser, token)
    _, html, _ = browser.request("GET", "/a/t/1/items", headers={"Accept-Encoding": "gzip"})
    assets = re.findall(rb'(?:href|src)="([^"]+)"', html)
    third_party = [a.decode() for a in assets if urlsplit(a.decode()).netloc]
    sizes = {"html": len(html), "html_gzip": len(gzip.compress(html))}
    for asset in assets:
        path = asset.decode()
        if not path.startswith("/static/"):
            continue
        kind = "css" if path.endswith(".css") else "js"
        _, raw, _ = browser.request("GET", path)
        _, wire, _ = browser.request("GET", path, headers={"Accept-Encoding": "gzip"})
        sizes[kind] = len(raw)
        sizes[f"{kind}_gzip"] = len(wire)
    sizes["third_party"] = third_party
    return sizes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    _manage("migrate", "--noinput", "-v", "0")
    _manage("collectstatic", "--noinput", "-v", "0")
    _manage("load_catalog")
    org, owner, tokens = _setup(args.clients + 3)
    port = _free_port()
    log = Path(tempfile.mkdtemp()) / "access.log"
    env = dict(os.environ, CANDIDATE_TOKEN_RATE_LIMIT="100000/m",
               CANDIDATE_ANSWER_RATE_LIMIT="1000000/m", DEBUG="false",
               ALLOWED_HOSTS="127.0.0.1,localhost")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(args.workers), "--worker-class", "gthread", "--threads",
         str(args.threads), "--access-logfile", str(log),
         "--access-logformat", "%(m)s %(U)s %(s)s %(D)s", "--log-level", "warning"],
        cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        sizes = _transfer(port, tokens[-1])
        # Warm-up: one candidate, a few rounds (imports, connections, template caches).
        _client(port, tokens[0], 5, {"page": [], "answer": []}, [])
        phases = []
        for label, group in (("1 candidate at a time", tokens[1:2]),
                             (f"{args.clients} concurrent candidates",
                              tokens[2:2 + args.clients])):
            log.write_text("")
            phases.append((label, *_phase(port, group, args.rounds, log)))
    finally:
        server.terminate()
        server.wait(15)
        _teardown(org, owner)

    print(f"candidate pages bench: gunicorn gthread {args.workers} workers x {args.threads} "
          f"threads, {args.rounds} rounds of (item page GET + answer POST) per candidate; "
          f"server time = gunicorn's request duration")
    for label, latencies, server_ms, wall, errors in phases:
        total = sum(len(v) for v in latencies.values())
        print(f"- {label}: {total} requests in {wall:.1f} s ({total / wall:.0f} req/s), "
              f"errors: {len(errors)}")
        for kind, name in (("page", "item page GET"), ("answer", "answer save POST")):
            s, c = server_ms[kind], [x * 1000 for x in latencies[kind]]
            print(f"    {name:17} server p50 {_pct(s, 50):5.1f} ms  p95 {_pct(s, 95):5.1f} ms  "
                  f"p99 {_pct(s, 99):5.1f} ms   (client-observed p50 {_pct(c, 50):.1f}, p95 "
                  f"{_pct(c, 95):.1f} ms; n={len(s)})")
        for error in errors[:5]:
            print(f"    error: {error}")
    full = sizes["html"] + sizes.get("css", 0) + sizes.get("js", 0)
    wire = sizes["html"] + sizes.get("css_gzip", 0) + sizes.get("js_gzip", 0)
    print(f"- full item page: HTML {sizes['html']} B + CSS {sizes.get('css', 0)} B + JS "
          f"{sizes.get('js', 0)} B = {full / 1024:.1f} KB uncompressed; {wire / 1024:.1f} KB "
          f"as served (static files gzipped by whitenoise); third-party URLs: "
          f"{sizes['third_party'] or 'none'}")
    return 0


def _phase(port, tokens, rounds, log):
    latencies = {"page": [], "answer": []}
    errors: list[str] = []
    threads = [threading.Thread(target=_client, args=(port, token, rounds, latencies, errors))
               for token in tokens]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    time.sleep(0.5)  # let gunicorn flush its access log
    server_ms = {"page": [], "answer": []}
    for line in log.read_text().splitlines():
        method, path, _status, micros = line.split()
        if path == "/a/t/1/items" and method == "GET":
            server_ms["page"].append(int(micros) / 1000)
        elif path == "/a/t/1/answer":
            server_ms["answer"].append(int(micros) / 1000)
    return latencies, server_ms, wall, errors


if __name__ == "__main__":
    sys.exit(main())
