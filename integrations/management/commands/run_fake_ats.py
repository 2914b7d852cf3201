"""`python manage.py run_fake_ats lever --port P`: run a fake ATS until Ctrl-C (or SIGTERM).

Only Lever exists today; Greenhouse, Ashby and Workable come with their integrations (issue 5)
and exit with code 2 and a message saying so.
"""

from __future__ import annotations

import signal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from integrations.providers.lever.fake import FAKE_API_KEY, FAKE_CLIENT_ID, FAKE_CLIENT_SECRET

KNOWN = ("lever", "greenhouse", "ashby", "workable")
NOT_BUILT = ("greenhouse", "ashby", "workable")


def _interrupt(signum, frame):
    raise KeyboardInterrupt  # the server's wait() stops cleanly on it


class Command(BaseCommand):
    help = "Run a fake ATS (OAuth, API and signed webhooks) for demos and tests, until Ctrl-C."
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("ats", help=f"which ATS: {', '.join(KNOWN)}")
        parser.add_argument("--port", type=int, default=None,
                            help="port to listen on (0 picks a free one; Lever's default: "
                                 "FAKE_LEVER_PORT)")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--site-url", default=None,
                            help="the fake's own public base URL (default http://host:port)")
        parser.add_argument("--allow-remote-webhooks", action="store_true",
                            help="also deliver webhooks to non-loopback URLs")

    def handle(self, *args, ats: str, port, host, site_url, allow_remote_webhooks, **options):
        ats = ats.lower()
        if ats in NOT_BUILT:
            raise CommandError(f"the fake {ats.title()} is not built yet (it comes with its "
                               "integration, issue 5); only `lever` runs today", returncode=2)
        if ats != "lever":
            raise CommandError(f"unknown ATS {ats!r}: choose one of {', '.join(KNOWN)}",
                               returncode=2)
        from integrations.providers.lever.fake import run_fake_lever

        port = settings.FAKE_LEVER_PORT if port is None else port
        try:
            server = run_fake_lever(host, port, site_url=site_url,
                                    allow_remote_webhooks=allow_remote_webhooks)
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror or exc} "
                               "(choose another --port)") from None
        signal.signal(signal.SIGTERM, _interrupt)
        self.stdout.write(f"Fake Lever on {server.url}  (API {server.api_url}, OAuth "
                          f"{server.fake.base_url}); page: {server.fake.base_url}/")
        self.stdout.write(f"client_id={FAKE_CLIENT_ID} client_secret={FAKE_CLIENT_SECRET} "
                          f"api_key={FAKE_API_KEY}")
        self.stdout.flush()
        server.wait()
        self.stdout.write("Fake Lever stopped.")
