"""A runnable fake Workable (Assessments Provider API) for tests, benchmarks and the demo.

Workable calls the provider (us): ``GET <partner_url>/tests`` and ``POST <partner_url>/assessments``
with ``Authorization: Bearer <provider token>``; we answer, then ``PUT <callback_url>`` with a
*different* Bearer token that Workable issued (brief §5, §7.27). The fake plays Workable: control
actions make its calls, its ``PUT /assessments/<id>`` takes our callbacks, and every answer and
callback is checked by the brief's rules, with violations kept in ``GET /_control/state``.
Standard library only (``integrations.fakekit``), in memory, one lock.

Modules: ``state`` (store, config, lock), ``rules`` (the brief's checks), ``partner`` (calls to us),
``api`` (the callback route), ``faults``, ``control`` (/_control), ``page`` (HTML), ``router``
(FakeWorkable and dispatch), ``server`` (run, describe, CLI).
"""

from .router import FakeWorkable
from .rules import ERROR_CODES, GRADES, STATUSES, TERMINAL
from .server import describe, main, run
from .state import DEFAULT_PROVIDER_TOKEN, DEFAULT_SUBDOMAIN, DEFAULT_WORKABLE_TOKEN

__all__ = [
    "DEFAULT_PROVIDER_TOKEN",
    "DEFAULT_SUBDOMAIN",
    "DEFAULT_WORKABLE_TOKEN",
    "ERROR_CODES",
    "GRADES",
    "STATUSES",
    "TERMINAL",
    "FakeWorkable",
    "describe",
    "main",
    "run",
]
