"""``run`` (tests, ``manage.py run_fake_ats workable``), ``describe`` (what a CLI prints) and
``main`` (``python -m integrations.providers.workable.fake``)."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from integrations.fakekit import FakeServer, serve

from .router import FakeWorkable
from .state import DEFAULT_PROVIDER_TOKEN, DEFAULT_SUBDOMAIN, DEFAULT_WORKABLE_TOKEN


def run(host: str = "127.0.0.1", port: int = 0, *, site_url: str | None = None,
        partner_url: str | None = None, **options: Any) -> FakeServer:
    """Start the fake Workable in a background thread (``port=0`` picks a free port).

    ``site_url`` is the fake's own public base URL (callback URLs are ``<site_url>/assessments/
    <id>``); ``partner_url`` is where our app serves the provider API
    (``<site>/integrations/workable``). ``options``: ``provider_token``, ``workable_tokens``,
    ``subdomain``, ``timeout`` (seconds per partner call). ``server.stop()`` ends it.
    """
    return serve("fake-workable",
                 lambda url: FakeWorkable(url, partner_url=partner_url, **options),
                 host, port, site_url)


def describe(server: FakeServer) -> list[str]:
    fake: FakeWorkable = server.fake
    cfg = fake.config
    return [
        f"Fake Workable on {server.url}  (callbacks {fake.site_url}/assessments/<id>); "
        f"page: {fake.site_url}/",
        f"partner_url={cfg['partner_url'] or '(not set: POST /_control/configure)'}",
        f"provider_token={cfg['provider_token']}  (Workable -> us: our connection's token)",
        f"workable_tokens={','.join(cfg['workable_tokens'])}  (us -> Workable on callbacks)",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run a fake Workable (Assessments Provider API).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8092)
    parser.add_argument("--site-url", default=None)
    parser.add_argument("--partner-url", default=None,
                        help="where our app serves the provider API, e.g. "
                             "http://127.0.0.1:8000/integrations/workable")
    parser.add_argument("--provider-token", default=DEFAULT_PROVIDER_TOKEN)
    parser.add_argument("--workable-token", action="append", dest="workable_tokens",
                        help=f"accepted on callbacks (repeatable; default "
                             f"{DEFAULT_WORKABLE_TOKEN})")
    parser.add_argument("--subdomain", default=DEFAULT_SUBDOMAIN)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    server = run(args.host, args.port, site_url=args.site_url, partner_url=args.partner_url,
                 provider_token=args.provider_token, workable_tokens=args.workable_tokens,
                 subdomain=args.subdomain)
    for line in describe(server):
        print(line, flush=True)
    server.wait()
