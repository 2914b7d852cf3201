"""Lever under load (DESIGN §5): webhook intake beside a trivial view, stage change -> email handed
to SMTP, completion -> feedback form in Lever. Prints figures and ratios taken in the same run;
asserts nothing. Loopback only; every phase is bounded in count and time.

    .venv/bin/python -m config.embedded exec -- .venv/bin/python bench/lever_webhooks.py \
        [--rate 300] [--seconds 10] [--clients 16] [--changes 30] [--workers 2]

Targets (DESIGN §5): intake p99 <= 25 ms at 300 req/s and sustained throughput >= 50 % of a
trivial Django view on the same server; stage change -> email p95 <= 1 s with a local fake ATS;
completion -> ATS write-back p95 <= 2 s.

What runs, against the configured PostgreSQL (DATABASE_URL) and Redis (REDIS_URL, database 7 so
a `make run` beside it keeps its queues): migrate + load_catalog (idempotent); a throwaway org
with a Lever connection to the fake Lever (in this process, on a free port) whose webhook points
at a real gunicorn (sync workers, `--workers`) on a free port; an SMTP capture (aiosmtpd).

(a) Intake. Trivial view = `/healthz` (a plain Django view). First the maximum throughput of each
    (`--clients` closed-loop connections for 5 s), then a fixed rate (`--rate` for `--seconds`,
    open loop: latency counts from each request's scheduled time, so a slow server cannot hide
    queueing). Webhook deliveries are signed `candidateStageChange`s with unique tokens into an
    unmapped stage: verify + insert + commit + enqueue + 200, the real path. No worker runs
    during (a) (it would compete for the two cores); the tasks it queued are purged after.
    Server time = gunicorn's own request duration (access log %(D)s).
(b) Stage change -> email: a Celery worker starts (prefork, 2 processes); one at a time, a new
    opportunity is moved to the mapped stage through the fake's control API; the clock stops when
    the SMTP server has the invitation email (fake webhook -> gunicorn -> worker -> GET
    opportunity -> invitation -> email task -> SMTP).
(c) Completion -> feedback form: for each invitation of (b), answers are saved in-process
    (assessments.attempts) and the clock starts just before the attempt is closed (scoring, the
    Result and its outbox row commit together); it stops when the fake Lever holds the feedback
    form (worker: GET feedback, [template once], POST feedback, GET notes, POST note).
The org is deleted at the end.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TEST = "big-five-mini-ipip-20"
BENCH_REDIS_DB = 7


def _manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)


def _pct(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, round(q / 100 * (len(values) - 1)))]


# -- set-up --------------------------------------------------------------------------------------

def prepare_environment():
    """A free port for gunicorn and an SMTP capture, this process's environment pointed at them
    (and at Redis database 7), the database migrated and the catalog loaded."""
    from tests.e2e.stack import SmtpCapture, free_port

    redis = urlsplit(os.environ["REDIS_URL"])
    port = free_port()
    smtp = SmtpCapture().start()
    os.environ.update(REDIS_URL=urlunsplit(redis._replace(path=f"/{BENCH_REDIS_DB}")),
                      SITE_URL=f"http://127.0.0.1:{port}", EMAIL_URL=smtp.url,
                      DJANGO_SETTINGS_MODULE="config.settings", DEBUG="false")
    _manage("migrate", "--noinput", "-v", "0")
    _manage("load_catalog")
    return port, smtp


def _setup(fake, site_url: str):
    import django

    django.setup()
    import logging

    logging.getLogger().setLevel(logging.WARNING)  # this process only; servers log as usual
    from integrations.models import Connection, StageMapping
    from integrations.providers.lever import connect
    from integrations.providers.lever.adapter import client_for
    from integrations.providers.lever.fake import seed_id
    from tenants.context import platform_context, tenant_context
    from tenants.forms import create_organization
    from tenants.models import User

    slug = f"bench-{secrets.token_hex(4)}"
    with platform_context("bench set-up"):
        owner = User.objects.create_user(f"owner@{slug}.bench", secrets.token_urlsafe(16))
        org = create_organization(name=f"Bench {slug}", slug=slug, owner=owner)
    import requests

    tokens = requests.post(f"{fake.url}/_control/tokens", json={}, timeout=10).json()
    with tenant_context(org):
        connection = Connection.objects.create(
            org=org, provider="lever", status="active", is_sandbox=True, name="bench",
            credentials=json.dumps({"access_token": tokens["access_token"]}),
            config={**connect.fake_config(fake.url),
                    "perform_as": seed_id("user:riley.recruiter@example.com")})
        # Our webhook in the fake; its signature token is the connection's known secret.
        hook = client_for(connection).create_webhook(connect.webhook_url(connection),
                                                     "candidateStageChange")
        Connection.objects.filter(pk=connection.pk).update(webhook_secret=hook.signature_token)
        connection.refresh_from_db()
        StageMapping.objects.create(org=org, connection=connection,
                                    stage_id=seed_id("stage:Phone Screen"),
                                    stage_name="Phone Screen", tests=[TEST])
    return org, owner, connection


def _teardown(org, owner) -> None:
    from tenants.context import platform_context

    with platform_context("bench clean-up"):
        org.delete()
        owner.delete()


# -- HTTP load -----------------------------------------------------------------------------------

def _send(port: int, method: str, path: str, body: bytes | None, headers: dict) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    except OSError:
        return 0
    finally:
        conn.close()


def closed_loop(port, request_for, clients: int, seconds: float) -> dict:
    """`clients` connections back to back for `seconds`: the throughput the server sustains."""
    counter, lock = Counter(), threading.Lock()
    stop_at = time.perf_counter() + seconds
    numbers = iter(range(10**9))

    def run():
        while time.perf_counter() < stop_at:
            status = _send(port, *request_for(next(numbers)))
            with lock:
                counter[status] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=run) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    ok = sum(v for k, v in counter.items() if 200 <= k < 300)
    return {"rps": ok / wall, "statuses": dict(counter)}


def fixed_rate(port, request_for, rate: float, seconds: float, pool: int = 64) -> dict:
    """Open loop: request i is due at start + i/rate; latency counts from when it was due."""
    n = int(rate * seconds)
    start = time.perf_counter() + 0.2
    numbers = iter(range(n))
    lock = threading.Lock()
    due_latency, send_latency, counter = [], [], Counter()

    def run():
        for i in numbers:  # the iterator is shared: each i is taken once
            due = start + i / rate
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            sent = time.perf_counter()
            status = _send(port, *request_for(i))
            done = time.perf_counter()
            with lock:
                due_latency.append(done - due)
                send_latency.append(done - sent)
                counter[status] += 1

    threads = [threading.Thread(target=run) for _ in range(pool)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    ok = sum(v for k, v in counter.items() if 200 <= k < 300)
    return {"n": n, "rps": ok / wall, "statuses": dict(counter),
            "p50": _pct(due_latency, 50) * 1000, "p99": _pct(due_latency, 99) * 1000,
            "send_p50": _pct(send_latency, 50) * 1000, "send_p99": _pct(send_latency, 99) * 1000}


def _server_times(log: Path, path_prefix: str) -> list[float]:
    times = []
    for line in log.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0].startswith(path_prefix):
            times.append(int(parts[2]) / 1000)
    return times


def bench_intake(port, connection, log: Path, args) -> dict:
    from integrations.providers.lever.signatures import sign

    secret = connection.webhook_secret
    webhook_path = f"/integrations/lever/{connection.public_id}/webhook"
    total = int(args.rate * args.seconds) + 200_000  # bodies for every phase, made up front
    triggered = int(time.time() * 1000)
    bodies: dict[int, bytes] = {}

    def webhook(i: int):
        body = bodies.get(i)
        if body is None:
            token = secrets.token_hex(24)
            body = json.dumps({
                "id": f"bench-{i}", "event": "candidateStageChange", "triggeredAt": triggered,
                "token": token, "signature": sign(token, triggered, secret),
                "data": {"opportunityId": f"bench-opp-{i}", "candidateId": f"bench-opp-{i}",
                         "contactId": "c", "toStageId": "bench-unmapped-stage",
                         "fromStageId": "x"}}).encode()
        return "POST", webhook_path, body, {"Content-Type": "application/json",
                                           "User-Agent": "Lever-Webhooks"}

    for i in range(int(args.rate * args.seconds)):
        bodies[i] = webhook(i)[2]
    offset = [len(bodies)]

    def webhook_fresh(i: int):  # closed-loop phase: never reuse a fixed-rate body
        return webhook(offset[0] + i)

    def healthz(_i: int):
        return "GET", "/healthz", None, {}

    for i in range(50):  # warm-up: imports, connections, caches
        _send(port, *healthz(i))
        _send(port, *webhook(total - 1 - i))
    out = {}
    for name, request_for in (("healthz", healthz), ("webhook", webhook_fresh)):
        out[f"{name}_max"] = closed_loop(port, request_for, args.clients, 5.0)
        offset[0] += 10**6
    for name, request_for, prefix in (("healthz", healthz, "/healthz"),
                                      ("webhook", webhook, "/integrations/lever/")):
        log.write_text("")
        time.sleep(0.3)
        result = fixed_rate(port, request_for, args.rate, args.seconds)
        time.sleep(0.5)  # let gunicorn flush its access log
        server = _server_times(log, prefix)
        result["server_p50"], result["server_p99"] = _pct(server, 50), _pct(server, 99)
        out[f"{name}_rate"] = result
    return out


# -- worker flows --------------------------------------------------------------------------------

def _start_worker(env: dict, log: Path):
    from config.celery import app

    app.control.purge()  # what (a) queued: unmapped stage changes, nothing to do
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "-Q",
             "default,integrations,email", "--concurrency", "2", "-l", "warning",
             "--without-mingle", "--without-gossip", "-n", f"bench-{os.getpid()}@%h"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"worker exited:\n{log.read_text()[-2000:]}")
        if app.control.ping(timeout=0.5):
            return proc
    proc.terminate()
    raise SystemExit("worker did not start")


def _wait(predicate, timeout: float, interval: float = 0.002):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


def bench_stage_changes(fake, smtp, changes: int) -> tuple[list[float], list[str], int]:
    import requests

    from integrations.providers.lever.fake import seed_id

    phone = seed_id("stage:Phone Screen")
    latencies, opportunities, lost = [], [], 0
    for i in range(changes):
        address = f"bench{i}-{secrets.token_hex(3)}@example.com"
        created = requests.post(f"{fake.url}/_control/opportunities", timeout=10,
                                json={"name": f"Bench Candidate{i}", "emails": [address]}).json()
        oid = created["data"]["id"]
        started = time.monotonic()
        requests.post(f"{fake.url}/_control/opportunities/{oid}/stage", timeout=10,
                      json={"stage_id": phone}).raise_for_status()
        if not _wait(lambda a=address: smtp.to(a), 15):
            lost += 1
            continue
        with smtp.lock:
            at = smtp.received_at[[address in r for r in smtp.recipients].index(True)]
        latencies.append(at - started)
        opportunities.append(oid)
    return latencies, opportunities, lost


def bench_completions(fake, org, opportunities: list[str]) -> tuple[list[float], int]:
    from django.db import transaction

    from assessments import attempts
    from assessments.models import Invitation
    from tenants.context import tenant_context

    latencies, lost = [], 0
    for oid in opportunities:
        with tenant_context(org):
            invitation = Invitation.objects.get(source_ref__opportunity_id=oid)
            Invitation.objects.filter(pk=invitation.pk).update(status="opened")
            attempt = invitation.attempts.select_related(
                "invitation__candidate", "invitation_test__catalog_test").get()
            attempt.invitation.refresh_from_db()
            layout = attempts.layout_for(attempt.invitation_test.catalog_test)
            with transaction.atomic():
                attempts.start(attempt, layout)
                for number, page in enumerate(layout.pages, start=1):
                    attempts.save_answers(attempt, layout, {item.id: "4" for item in page},
                                          page=number)
            started = time.monotonic()
            with transaction.atomic():
                attempts.close(attempt)
        if not _wait(lambda o=oid: fake.fake.feedback.get(o), 15):
            lost += 1
            continue
        latencies.append(time.monotonic() - started)
    return latencies, lost


# -- main ----------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--changes", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1,
                        help="gunicorn threads per worker (>1 uses gthread workers)")
    args = parser.parse_args()
    if not (0 < args.rate <= 2000 and 0 < args.seconds <= 60 and 0 < args.changes <= 200
            and 0 < args.clients <= 64):
        parser.error("keep it bounded: rate <= 2000, seconds <= 60, changes <= 200, "
                     "clients <= 64")

    from tests.e2e.stack import WebServer

    port, smtp = prepare_environment()
    from integrations.providers.lever.fake import run_fake_lever

    fake = run_fake_lever()
    org, owner, connection = _setup(fake, os.environ["SITE_URL"])
    tmp = Path(tempfile.mkdtemp(prefix="assay-bench-"))
    access = tmp / "access.log"
    web = WebServer(dict(os.environ), port, workers=args.workers, threads=args.threads,
                    log_path=tmp / "gunicorn.log",
                    access_log=access, access_format="%(U)s %(s)s %(D)s")
    worker = None
    try:
        web.wait_ready()
        intake = bench_intake(port, connection, access, args)
        worker = _start_worker(dict(os.environ), tmp / "worker.log")
        emails, opportunities, lost_emails = bench_stage_changes(fake, smtp, args.changes)
        writebacks, lost_forms = bench_completions(fake, org, opportunities)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(20)
        web.stop()
        smtp.stop()
        fake.stop()
        _teardown(org, owner)

    hm, wm = intake["healthz_max"], intake["webhook_max"]
    hr, wr = intake["healthz_rate"], intake["webhook_rate"]
    kind = f"gthread x {args.threads} threads" if args.threads > 1 else "sync"
    print(f"Lever bench: gunicorn {kind} x {args.workers} workers, {os.cpu_count()} cores; "
          f"fixed rate {args.rate:.0f} req/s for {args.seconds:.0f} s; {args.clients} "
          "closed-loop clients for 5 s; latency from each request's scheduled time")
    print(f"{'':34}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'srv p50':>9}{'srv p99':>9}  statuses")
    print(f"{'/healthz (trivial view), max':34}{hm['rps']:9.0f}{'':36}  {hm['statuses']}")
    print(f"{'webhook intake, max':34}{wm['rps']:9.0f}{'':36}  {wm['statuses']}")
    for label, r in ((f"/healthz at {args.rate:.0f}/s", hr),
                     (f"webhook intake at {args.rate:.0f}/s", wr)):
        print(f"{label:34}{r['rps']:9.0f}{r['p50']:9.1f}{r['p99']:9.1f}{r['server_p50']:9.1f}"
              f"{r['server_p99']:9.1f}  {r['statuses']}")
    print(f"- intake throughput / trivial view: {wm['rps'] / hm['rps']:.2f} (target >= 0.50)")
    print(f"- intake p99 at {args.rate:.0f}/s: {wr['p99']:.1f} ms (target <= 25 ms); "
          f"/healthz p99 at the same rate {hr['p99']:.1f} ms, ratio "
          f"{wr['p99'] / hr['p99']:.1f}x")
    e = [x * 1000 for x in emails]
    w = [x * 1000 for x in writebacks]
    print(f"- stage change -> email handed to SMTP: p50 {_pct(e, 50):.0f} ms, p95 "
          f"{_pct(e, 95):.0f} ms, max {max(e, default=float('nan')):.0f} ms (n={len(e)}, "
          f"lost {lost_emails}; target p95 <= 1000 ms)")
    print(f"- completion -> feedback form in Lever: p50 {_pct(w, 50):.0f} ms, p95 "
          f"{_pct(w, 95):.0f} ms, max {max(w, default=float('nan')):.0f} ms (n={len(w)}, "
          f"lost {lost_forms}; first includes creating the template; target p95 <= 2000 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
