"""The HTTP server around FakeLever, ``run_fake_lever`` for tests, and ``main`` for the CLI."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from integrations.fakekit import FakeServer

from .router import FakeLever
from .state import FAKE_API_KEY, FAKE_CLIENT_ID, FAKE_CLIENT_SECRET

logger = logging.getLogger("integrations.lever.fake")


class FakeLeverServer(FakeServer):
    """The HTTP server (integrations.fakekit), already serving in a daemon thread once started;
    ``stop()`` ends everything."""

    def __init__(self, host: str, port: int, site_url: str | None, **options: Any) -> None:
        super().__init__("fake-lever", host, port, lambda url: FakeLever(url, **options),
                         site_url)

    @property
    def api_url(self) -> str:
        return f"{self.fake.base_url}/v1"


def run_fake_lever(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    site_url: str | None = None,
    client_id: str = FAKE_CLIENT_ID,
    client_secret: str = FAKE_CLIENT_SECRET,
    allow_remote_webhooks: bool = False,
) -> FakeLeverServer:
    """Start the fake in a background thread and return it (``port=0`` picks a free port).

    ``site_url`` is the fake's own public base URL (links, OAuth audience); it defaults to
    ``http://host:port``. Call ``server.stop()`` (tests) or ``server.wait()`` (CLI) when done.
    """
    server = FakeLeverServer(
        host,
        port,
        site_url,
        client_id=client_id,
        client_secret=client_secret,
        allow_remote_webhooks=allow_remote_webhooks,
    )
    return server.start()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run a fake Lever for local demos and tests.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--site-url", default=None)
    parser.add_argument("--allow-remote-webhooks", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    server = run_fake_lever(
        args.host,
        args.port,
        site_url=args.site_url,
        allow_remote_webhooks=args.allow_remote_webhooks,
    )
    print(f"Fake Lever on {server.url}  (API {server.api_url}, OAuth {server.fake.base_url})")
    print(f"client_id={FAKE_CLIENT_ID} client_secret={FAKE_CLIENT_SECRET} api_key={FAKE_API_KEY}")
    server.wait()
