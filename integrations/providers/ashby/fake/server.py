"""``run`` (a started server, for tests and ``run_fake_ats ashby``), ``describe``, ``main``.

The HTTP plumbing is the shared ``integrations.fakekit`` server; this module only builds a
``FakeAshby`` for it and says how to use it.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from integrations.fakekit import FakeServer, serve

from .router import FakeAshby
from .state import DEFAULT_API_KEY, DEFAULT_PARTNER_KEY


def run(host: str = "127.0.0.1", port: int = 0, *, site_url: str | None = None,
        partner_url: str | None = None, **options: Any) -> FakeServer:
    """Start the fake Ashby in a background thread (``port=0`` picks a free port).

    ``site_url`` is the fake's own public base URL (default ``http://host:port``);
    ``partner_url`` is where our app serves Ashby's calls (``<site>/integrations/ashby``).
    ``options``: ``partner_key``, ``api_keys``, ``key_field`` (``"username"`` or
    ``"password"``), ``partner_timeout``. Call ``server.stop()`` or ``server.wait()`` when done.
    """
    return serve("fake-ashby", lambda url: FakeAshby(url, partner_url=partner_url, **options),
                 host, port, site_url)


def describe(server: FakeServer) -> list[str]:
    """The lines a CLI prints at start: where it is and which keys to use."""
    fake: FakeAshby = server.fake
    config = fake.config
    return [
        f"Fake Ashby on {server.url}  (page {fake.base_url}/, API {fake.base_url}"
        "/assessment.update)",
        f"partner URL: {config['partner_url'] or '(not set: POST /_control/configure)'}  "
        f"(Ashby calls <partner URL>/assessment.list|start|cancel)",
        f"partner key (Ashby -> us, Basic {config['key_field']}): {config['partner_key']}",
        f"Ashby API keys (us -> Ashby, Basic username): {', '.join(config['api_keys'])}",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run a fake Ashby for local demos and tests.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8092)
    parser.add_argument("--site-url", default=None)
    parser.add_argument("--partner-url", default=None,
                        help="where the partner serves Ashby's calls, e.g. "
                             "http://127.0.0.1:8000/integrations/ashby")
    parser.add_argument("--partner-key", default=DEFAULT_PARTNER_KEY)
    parser.add_argument("--api-key", action="append", dest="api_keys",
                        help=f"an Ashby API key the fake accepts (repeatable; default "
                             f"{DEFAULT_API_KEY})")
    parser.add_argument("--key-field", choices=("username", "password"), default="username")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    server = run(args.host, args.port, site_url=args.site_url, partner_url=args.partner_url,
                 partner_key=args.partner_key, api_keys=args.api_keys or [DEFAULT_API_KEY],
                 key_field=args.key_field)
    for line in describe(server):
        print(line, flush=True)
    server.wait()
