"""The threaded HTTP server around any fake ATS (an object with ``dispatch``)."""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .messages import Request

logger = logging.getLogger("integrations.fakes")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes; don't stall on ACKs
    server: FakeServer

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        request = Request(method=self.command, path=parts.path, query=parse_qs(parts.query),
                          headers={k.lower(): v for k, v in self.headers.items()},
                          body=self.rfile.read(length) if length else b"")
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

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("%s %s - %s", self.server.name, self.address_string(), format % args)


class FakeServer(ThreadingHTTPServer):
    """The HTTP server, serving in a daemon thread once ``start()``ed; ``stop()`` ends it all.

    ``make_fake(url)`` builds the fake once the port is known, so the fake can put its own
    address into the URLs it hands out (Greenhouse's PATCH url, Workable's callback_url).
    """

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, name: str, host: str, port: int, make_fake, site_url: str | None = None):
        super().__init__((host, port), _Handler)
        self.name = name
        self.url = f"http://{host}:{self.server_address[1]}"
        self.fake = make_fake(site_url or self.url)
        self.thread = threading.Thread(target=self.serve_forever,
                                       kwargs={"poll_interval": 0.05},
                                       daemon=True, name=f"{name}-{self.server_address[1]}")

    def start(self) -> FakeServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        stopping = getattr(self.fake, "stopping", None)
        if stopping is not None:
            stopping.set()
        self.shutdown()
        self.server_close()
        for thread in [self.thread, *getattr(self.fake, "threads", [])]:
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


def serve(name: str, make_fake, host: str = "127.0.0.1", port: int = 0,
          site_url: str | None = None) -> FakeServer:
    """Start a fake on ``host:port`` (0 picks a free port) in a background thread."""
    return FakeServer(name, host, port, make_fake, site_url).start()
