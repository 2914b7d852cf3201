"""``run`` for tests and ``manage.py run_fake_ats``, ``describe`` for what a CLI prints, ``main``.

The fake runs on ``integrations.fakekit.serve``; ``site_url`` is its own public base URL (the
take-home ``url``, ``greenhouse_profile_url`` and ``resume_url`` it hands the partner).
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

from integrations.fakekit import FakeServer, serve

from .router import FakeGreenhouse


def run(host: str = "127.0.0.1", port: int = 0, *, site_url: str | None = None,
        partner_url: str | None = None, **options: Any) -> FakeServer:
    """Start the fake in a background thread (``port=0`` picks a free port) and return it.

    ``options``: any configure setting (``key``, ``urls``, ``patch_status``, ``status_read_delay``,
    ``report_errors``, ``timeout``). Call ``server.stop()`` (tests) or ``server.wait()`` (CLI).
    """
    return serve("fake-greenhouse",
                 lambda url: FakeGreenhouse(url, partner_url=partner_url, **options),
                 host, port, site_url)


def describe(server: FakeServer) -> list[str]:
    fake: FakeGreenhouse = server.fake
    config = fake.config_view()
    partner = config["partner_url"] or ("not set: POST /_control/configure "
                                        '{"partner_url": "<site>/integrations/greenhouse"}')
    return [
        f"Fake Greenhouse on {server.url}  (page {fake.base_url}/, control "
        f"{server.url}/_control/state)",
        f"key={config['key']}  (partner key: Basic username, empty password, on every call and "
        "on the completion PATCH)",
        f"partner_url={partner}",
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run a fake Greenhouse (Assessment Partner API).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8002)
    parser.add_argument("--site-url", default=None,
                        help="the fake's own public base URL (default http://host:port)")
    parser.add_argument("--partner-url", default=None,
                        help="the partner's base URL, e.g. http://127.0.0.1:8000/integrations/"
                             "greenhouse")
    parser.add_argument("--key", default=None, help="the partner-issued key Greenhouse sends")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    server = run(args.host, args.port, site_url=args.site_url, partner_url=args.partner_url,
                 key=args.key)
    for line in describe(server):
        print(line, flush=True)
    server.wait()
