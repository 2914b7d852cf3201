"""A runnable fake Greenhouse (Assessment Partner API) for tests, benchmarks and the demo.

Standard library only, in-memory, one lock. Greenhouse *calls the partner* (list_tests, send_test,
test_status, response_error, Basic ``<key>:``) and hosts one route, the completion PATCH, after
which it reads test_status. The fake does the same and checks every answer by the brief's rules
(bare-array list_tests, string partner_interview_id, lowercase "complete", profile URL, numeric
score, flat metadata), so our partner side meets them here first.

Modules: ``state`` (the store, its lock and configuration), ``rules`` (the brief's checks),
``partner`` (calls to the partner), ``api`` (the PATCH route), ``faults``, ``control``
(/_control routes), ``page`` (the HTML pages), ``router`` (FakeGreenhouse and dispatch),
``server`` (``run``, ``describe``, the CLI).
"""

from .router import FakeGreenhouse
from .rules import DONE, MAX_KEY_LENGTH
from .server import describe, main, run
from .state import CALLS, DEFAULT_KEY

__all__ = ["CALLS", "DEFAULT_KEY", "DONE", "MAX_KEY_LENGTH", "FakeGreenhouse", "describe", "main",
           "run"]
