"""A runnable fake Ashby (the assessment partner API, both directions) for tests and demos.

Standard library only, in-memory, one lock. Ashby calls the partner (``assessment.list``,
``.start``, ``.cancel``) when driven through ``/_control``, and hosts ``assessment.update`` and
``assessment.addCompletedToCandidate`` for the partner to call. It checks everything the brief
(§4, §7 items 19–22, 26, 29) says about both directions and records each broken rule in
``violations``, so our code meets the rules here first.

Modules: ``state`` (the store and its lock), ``rules`` (the brief's rules as pure functions),
``partner`` (Ashby's calls to us), ``api`` (the routes Ashby hosts), ``faults``, ``control``
(/_control routes), ``page`` (the HTML page), ``router`` (FakeAshby and dispatch), ``server``
(``run``, ``describe``, the CLI).
"""

from .router import FakeAshby
from .rules import BLOB_TYPES
from .server import describe, main, run
from .state import DEFAULT_API_KEY, DEFAULT_PARTNER_KEY

__all__ = ["BLOB_TYPES", "DEFAULT_API_KEY", "DEFAULT_PARTNER_KEY", "FakeAshby", "describe",
           "main", "run"]
