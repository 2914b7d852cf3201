"""The HTTP server around FakeLever, ``run_fake_lever`` for tests, and ``main`` for the CLI."""

from __future__ import annotations

import argparse
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .messages import Request
from .router import FakeLever
from .state import FAKE_API_KEY, FAKE_CLIENT_ID, FAKE_CLIENT_SECRET

logger = logging.getLogger("integrations.lever.fake")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes; don't stall on ACKs
    server: FakeLeverServer

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        reply = self.server.fake.dispatch(request)
        if isinstance(reply.body, str):
            payload, ctype = reply.body.encode(), "text/html; charset=utf-8"
        elif reply.body is None:
            payload, ctype = b"", None
        else:
            payload, ctype = json.dumps(reply.body).encode(), "application/json; charset=utf-8"
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        if ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("fake-lever %s - %s", self.address_string(), format % args)


class FakeLeverServer(ThreadingHTTPServer):
    """The HTTP server, already serving in a daemon thread; ``stop()`` ends everything."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, host: str, port: int, site_url: str | None, **options: Any) -> None:
        super().__init__((host, port), _Handler)
        self.url = f"http://{host}:{self.server_address[1]}"
        self.fake = FakeLever(site_url or self.url, **options)
        self.thread = threading.Thread(
            target=self.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() returns within ~50 ms
            daemon=True,
            name=f"fake-lever-{self.server_address[1]}",
        )

    @property
    def api_url(self) -> str:
        return f"{self.fake.base_url}/v1"

    def stop(self) -> None:
        self.fake.stopping.set()
        self.shutdown()
        self.server_close()
        for thread in [self.thread, *self.fake.threads]:
            thread.join(timeout=6)

    def wait(self) -> None:
        """Block until Ctrl-C (for the CLI and ``manage.py run_fake_ats``)."""
        try:
            while self.thread.is_alive():
                self.thread.join(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()


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
    server.thread.start()
    return server


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
