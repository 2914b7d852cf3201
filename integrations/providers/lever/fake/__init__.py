"""A runnable fake Lever (OAuth + Data API v1 + signed webhooks) for tests and demos.

Standard library only, in-memory, one lock. It enforces the rules the brief says real Lever enforces
(exactly one score-system field per template, perform_as on feedback, template field ids, rotating
single-use refresh tokens, audience = API host) so our code meets them here first. Run it with
``python -m integrations.providers.lever.fake --port 8089`` or ``run_fake_lever(host, port)``.
Webhooks go only to loopback URLs unless ``allow_remote_webhooks`` is set.

Modules: ``messages`` (Request, Reply, ApiError), ``state`` (the store and its lock), ``seed``,
``rules`` (template and feedback validation), ``oauth``, ``api`` and ``feedback`` (/v1 routes),
``webhooks`` (subscriptions and signed deliveries), ``faults``, ``control`` (/_control routes),
``page`` (the HTML page), ``router`` (FakeLever and dispatch), ``server`` (HTTP and CLI).
"""

from .messages import ERROR_CODES, ApiError, Reply, Request, now_ms
from .router import FakeLever
from .rules import DEFAULT_SCORE_OPTIONS, FIELD_TYPES, OPTION_TYPES
from .seed import SEED_NAMESPACE, seed_id
from .server import FakeLeverServer, main, run_fake_lever
from .state import FAKE_API_KEY, FAKE_CLIENT_ID, FAKE_CLIENT_SECRET, WEBHOOK_EVENTS
from .webhooks import CONDITION_EVENTS, ORIGINS


def run(host: str = "127.0.0.1", port: int = 0, *, site_url: str | None = None,
        partner_url: str | None = None, **options) -> FakeLeverServer:
    """The entry point every fake shares (integrations.registry.FAKES). Lever calls us by
    webhooks registered through its API, so `partner_url` is not needed here."""
    return run_fake_lever(host, port, site_url=site_url, **options)


def describe(server: FakeLeverServer) -> list[str]:
    return [f"Fake Lever on {server.url}  (API {server.api_url}, OAuth {server.fake.base_url}); "
            f"page: {server.fake.base_url}/",
            f"client_id={FAKE_CLIENT_ID} client_secret={FAKE_CLIENT_SECRET} "
            f"api_key={FAKE_API_KEY}"]


__all__ = [
    "CONDITION_EVENTS",
    "DEFAULT_SCORE_OPTIONS",
    "ERROR_CODES",
    "FAKE_API_KEY",
    "FAKE_CLIENT_ID",
    "FAKE_CLIENT_SECRET",
    "FIELD_TYPES",
    "OPTION_TYPES",
    "ORIGINS",
    "SEED_NAMESPACE",
    "WEBHOOK_EVENTS",
    "describe",
    "run",
    "ApiError",
    "FakeLever",
    "FakeLeverServer",
    "Reply",
    "Request",
    "main",
    "now_ms",
    "run_fake_lever",
    "seed_id",
]
