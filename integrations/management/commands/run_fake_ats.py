"""`python manage.py run_fake_ats {lever,greenhouse,ashby,workable} --port P`: run a fake ATS
until Ctrl-C (or SIGTERM). Each provider's fake lives in `integrations/providers/<key>/fake/`."""

from __future__ import annotations

import importlib
import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from integrations import registry

KNOWN = tuple(registry.FAKES)


def _interrupt(signum, frame):
    raise KeyboardInterrupt  # the server's wait() stops cleanly on it


class Command(BaseCommand):
    help = "Run a fake ATS for demos and tests, until Ctrl-C."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("ats", help=f"which ATS: {', '.join(KNOWN)}")
        parser.add_argument("--port", type=int, default=None,
                            help="port to listen on (0 picks a free one; default: "
                                 "FAKE_<ATS>_PORT)")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--site-url", default=None,
                            help="the fake's own public base URL (default http://host:port)")
        parser.add_argument("--partner-url", default=None,
                            help="partner ATSes: where our endpoints are (default "
                                 "SITE_URL/integrations/<ats>)")
        parser.add_argument("--allow-remote-webhooks", action="store_true",
                            help="Lever: also deliver webhooks to non-loopback URLs")

    def handle(self, *args, ats: str, port, host, site_url, partner_url, allow_remote_webhooks,
               **options):
        ats = ats.lower()
        if ats not in KNOWN:
            raise CommandError(f"unknown ATS {ats!r}: choose one of {', '.join(KNOWN)}",
                               returncode=2)
        if port is None:
            port = getattr(settings, f"FAKE_{ats.upper()}_PORT", 0)
        try:
            server = self._start(ats, host, port, site_url, partner_url, allow_remote_webhooks)
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc} "
                               "(choose another --port)") from None
        signal.signal(signal.SIGTERM, _interrupt)
        for line in self._describe(ats, server):
            self.stdout.write(line)
        self.stdout.flush()
        server.wait()
        self.stdout.write(f"Fake {ats.title()} stopped.")

    def _start(self, ats, host, port, site_url, partner_url, allow_remote_webhooks):
        try:
            fake = importlib.import_module(registry.FAKES[ats])
        except ModuleNotFoundError:
            raise CommandError(f"the fake {ats.title()} is not built yet", returncode=2) from None
        if ats == "lever":
            return fake.run(host, port, site_url=site_url,
                            allow_remote_webhooks=allow_remote_webhooks)
        partner_url = partner_url or f"{settings.SITE_URL}/integrations/{ats}"
        return fake.run(host, port, site_url=site_url, partner_url=partner_url)

    def _describe(self, ats, server) -> list[str]:
        return list(importlib.import_module(registry.FAKES[ats]).describe(server))
