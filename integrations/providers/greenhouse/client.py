"""Our one call to Greenhouse: the completion PATCH (brief §3.3, pitfall 16).

`PATCH <url from send_test>` with no parameters and no body, authenticated like Greenhouse's
calls to us: HTTP Basic with the org's partner key as the username and an empty password.
Greenhouse answers only a status code and then reads our `test_status`. No Django here.
"""

from __future__ import annotations

import base64

from integrations.http import BaseClient

DOCS = "https://developers.greenhouse.io/assessment.html"
PRODUCTION_URL = "https://app.greenhouse.io"


def basic_key(key: str) -> str:
    """`Authorization` value for `key`: Basic base64("<key>:")."""
    return "Basic " + base64.b64encode(f"{key}:".encode()).decode()


class GreenhouseClient(BaseClient):
    """A client that PATCHes absolute URLs Greenhouse handed us, never following redirects.

    The URL came from the caller, so a redirect could point anywhere: with `max_redirects = 0`
    one is a permanent error ("TooManyRedirects") instead of a request to another host.
    """

    provider = "greenhouse"

    def __init__(self, key: str, *, base_url: str = PRODUCTION_URL, **options) -> None:
        super().__init__(base_url, **options)
        self.key = key
        self.session.max_redirects = 0

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": basic_key(self.key)}

    def notify_completed(self, url: str) -> int:
        """PATCH `url` with no body; return Greenhouse's status code (200 or 204).

        Safe to repeat (Greenhouse only re-reads test_status), so the short in-call retries
        apply to 5xx and timeouts too.
        """
        # Reference: DOCS#patch-completed-test
        return self.request("PATCH", url, idempotent=True).status_code
