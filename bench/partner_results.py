"""Greenhouse, Ashby and Workable: completion -> result visible in the ATS (DESIGN §5, issue 5).

Prints p50/p95 per ATS and the Lever figure's target beside them; asserts nothing. Loopback only,
bounded in count and time.

    .venv/bin/python -m config.embedded exec -- .venv/bin/python bench/partner_results.py \
        [--completions 20] [--workers 2]

What runs, against the configured PostgreSQL (DATABASE_URL) and Redis (REDIS_URL, database 7 so a
`make run` beside it keeps its queues): migrate + load_catalog (idempotent); a throwaway org with
a sandbox connection and a partner key per ATS; the three fakes in this process on free ports,
calling a real gunicorn (sync workers, `--workers`) on a free port; a real Celery worker
(prefork, 2 processes); an SMTP capture.

For each ATS, `--completions` times: the fake asks for an assessment the way the ATS does
(Greenhouse `send_test`, Ashby `assessment.start`, Workable `POST /assessments`) through gunicorn;
the answers are saved in-process (assessments.attempts) and the clock starts just before the
last attempt is closed (scoring, the Result, the invitation's completion and the outbox row
commit together); it stops when the fake shows the result as the ATS would:
- Greenhouse: our PATCH arrived and the fake then read `test_status` as `"complete"`;
- Ashby: an `assessment.update` with `assessment_result` was accepted;
- Workable: the `completed` callback PUT was accepted.
The fakes' `violations` are counted and printed (they should be 0). The org is deleted at the end.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.lever_webhooks import (  # noqa: E402 - after the path set-up
    _pct,
    _start_worker,
    _wait,
    prepare_environment,
)

TEST = "big-five-mini-ipip-20"
ATSES = ("greenhouse", "ashby", "workable")


def _state(server) -> dict:
    import requests

    return requests.get(f"{server.url}/_control/state", timeout=10).json()


def _control(server, path: str, body: dict) -> dict:
    import requests

    response = requests.post(f"{server.url}/_control/{path}", json=body, timeout=30)
    return response.json()


# -- set-up --------------------------------------------------------------------------------------

def _setup(site_url: str):
    import django

    django.setup()
    import logging

    logging.getLogger().setLevel(logging.WARNING)
    from integrations import partner_keys, registry
    from integrations.models import Connection
    from tenants.context import platform_context, tenant_context
    from tenants.forms import create_organization
    from tenants.models import User

    slug = f"bench-{secrets.token_hex(4)}"
    with platform_context("bench set-up"):
        owner = User.objects.create_user(f"owner@{slug}.bench", secrets.token_urlsafe(16))
        org = create_organization(name=f"Bench {slug}", slug=slug, owner=owner)
    fakes, connections = {}, {}
    for ats in ATSES:
        fake_module = __import__(registry.FAKES[ats], fromlist=["run"])
        with tenant_context(org):
            connection = Connection.objects.create(org=org, provider=ats, status="active",
                                                   is_sandbox=True, name=f"bench {ats}")
            key = partner_keys.issue(connection)
            connection.refresh_from_db()
        partner_url = f"{site_url}/integrations/{ats}"
        if ats == "greenhouse":
            server = fake_module.run(partner_url=partner_url, key=key)
        elif ats == "ashby":
            server = fake_module.run(partner_url=partner_url, partner_key=key,
                                     api_keys=["bench-ashby-api-key"])
        else:
            server = fake_module.run(partner_url=partner_url, provider_token=key,
                                     workable_tokens=["bench-workable-token"])
        with tenant_context(org):
            adapter = registry.adapter(connection)
            if ats == "ashby":
                adapter.set_credential("bench-ashby-api-key")
                connection.config = {"api_url": server.url}
            elif ats == "workable":
                adapter.set_credential("bench-workable-token")
            connection.save(update_fields=["credentials", "config"])
        fakes[ats], connections[ats] = server, connection
    return org, owner, fakes, connections


def _teardown(org, owner, fakes) -> None:
    from tenants.context import platform_context

    for server in fakes.values():
        server.stop()
    with platform_context("bench clean-up"):
        org.delete()
        owner.delete()


# -- one ATS -------------------------------------------------------------------------------------

def _request(ats: str, server, i: int) -> str | None:
    """Ask for one assessment as the ATS does; return the fake's id for it (or None)."""
    email = f"bench{i}-{secrets.token_hex(3)}@example.com"
    person = {"first_name": f"Bench{i}", "last_name": "Candidate", "email": email}
    if ats == "greenhouse":
        answer = _control(server, "send_test", {"partner_test_id": TEST, "candidate": person})
        return (answer.get("take_home_test") or {}).get("partner_interview_id")
    if ats == "ashby":
        answer = _control(server, "start", {"assessment_type_id": TEST, "candidate": person})
        return (answer.get("assessment") or {}).get("assessment_id")
    answer = _control(server, "assessments", {"test_id": TEST, "candidate": person})
    return (answer.get("assessment") or {}).get("assessment_id")


def _visible(ats: str, server, our_id: str) -> bool:
    state = _state(server)
    if ats == "greenhouse":
        return any(t.get("partner_interview_id") == our_id and t.get("status") == "complete"
                   for t in state["take_home_tests"])
    if ats == "ashby":
        return any(a.get("assessment_id") == our_id and a.get("completed")
                   for a in state["assessments"])
    return any(a.get("assessment_id") == our_id and a.get("status") == "completed"
               for a in state["assessments"])


def _complete(org, our_id: str) -> float | None:
    """Answer every item in-process, then close the last attempt; return the clock start."""
    from django.db import transaction

    from assessments import attempts
    from assessments.invitations import set_status
    from integrations.models import ExternalAssessment
    from tenants.context import tenant_context

    with tenant_context(org):
        found = _wait(lambda: ExternalAssessment.objects.filter(public_id=our_id)
                      .select_related("invitation").first(), 10)
        if found is None:
            return None
        invitation = found.invitation
        with transaction.atomic():
            set_status(type(invitation).objects.select_for_update().get(pk=invitation.pk),
                       "opened")
        pending = list(invitation.attempts.select_related(
            "invitation__candidate", "invitation_test__catalog_test")
            .order_by("invitation_test__position"))
        for n, attempt in enumerate(pending, start=1):
            layout = attempts.layout_for(attempt.invitation_test.catalog_test)
            with transaction.atomic():
                attempts.start(attempt, layout)
                for number, page in enumerate(layout.pages, start=1):
                    attempts.save_answers(attempt, layout, {item.id: "4" for item in page},
                                          page=number)
            started = time.monotonic()
            with transaction.atomic():
                attempts.close(attempt)
            if n == len(pending):
                return started
    return None


def bench_ats(ats: str, server, org, completions: int) -> dict:
    latencies, lost = [], 0
    for i in range(completions):
        our_id = _request(ats, server, i)
        started = _complete(org, our_id) if our_id else None
        if started is None or not _wait(lambda o=our_id: _visible(ats, server, o), 20,
                                        interval=0.005):
            lost += 1
            continue
        latencies.append((time.monotonic() - started) * 1000)
    violations = len(_state(server).get("violations") or [])
    return {"latencies": latencies, "lost": lost, "violations": violations}


# -- main ----------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--completions", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not 0 < args.completions <= 200:
        parser.error("keep it bounded: completions <= 200")

    from tests.e2e.stack import WebServer

    port, smtp = prepare_environment()
    org, owner, fakes, _connections = _setup(os.environ["SITE_URL"])
    tmp = Path(tempfile.mkdtemp(prefix="assay-bench-"))
    web = WebServer(dict(os.environ), port, workers=args.workers, log_path=tmp / "gunicorn.log")
    worker = None
    results = {}
    try:
        web.wait_ready()
        worker = _start_worker(dict(os.environ), tmp / "worker.log")
        for ats in ATSES:
            results[ats] = bench_ats(ats, fakes[ats], org, args.completions)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(20)
        web.stop()
        smtp.stop()
        _teardown(org, owner, fakes)

    print(f"Partner ATS bench: gunicorn sync x {args.workers} workers, Celery prefork x 2, "
          f"{os.cpu_count()} cores; {args.completions} completions per ATS; the clock runs "
          "from closing the last attempt to the result being visible in the fake ATS")
    print(f"{'':36}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'n':>5}{'lost':>6}{'violations':>12}")
    for ats, r in results.items():
        lat = r["latencies"]
        print(f"{'completion -> ' + ats:36}{_pct(lat, 50):9.0f}{_pct(lat, 95):9.0f}"
              f"{max(lat, default=float('nan')):9.0f}{len(lat):5}{r['lost']:6}"
              f"{r['violations']:12}")
    print("- target (DESIGN §5): completion -> ATS write-back p95 <= 2000 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
