"""Our one call to Workable: `PUT <callback_url>` with the token Workable issued.

Two different Bearer tokens meet in this integration (brief §7.27): Workable presents *our*
partner key when it calls us (integrations.partner_keys), and we present *Workable's* access
token here, entered by the org admin and stored encrypted on the connection. This client only
ever sees the second one.

Workable's answers to the callback are [UNCONFIRMED], so any 2xx is success; 401 and 403 mean
the token is wrong (AuthError: the admin must re-enter it; the delivery waits), 404 that the
assessment is gone in Workable, 400/422 a refusal carrying Workable's message (both permanent),
429 and 5xx are retried (the outbox honours Retry-After).
"""

from __future__ import annotations

import requests

from integrations.errors import AuthError
from integrations.http import BaseClient, error_message, raise_for_response

REENTER = ("re-enter the access token Workable issued for this integration in the connection's "
           "settings")


def raise_for_callback_response(response: requests.Response) -> None:
    """Map a callback answer to the error vocabulary (silently return on any 2xx)."""
    status = response.status_code
    if status in (401, 403):
        raise AuthError(f"Workable refused the access token ({error_message(response)}): "
                        f"{REENTER}", status_code=status)
    raise_for_response(response, error_message(response))


class WorkableClient(BaseClient):
    """Callback PUTs to the absolute URL Workable gave in `POST /assessments`."""

    provider = "workable"

    def __init__(self, token: str, **options) -> None:
        super().__init__("", **options)
        self.token = token

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def raise_for_response(self, response: requests.Response) -> None:
        raise_for_callback_response(response)

    def put_callback(self, callback_url: str, body: dict) -> requests.Response:
        return self.request("PUT", callback_url, json=body)
