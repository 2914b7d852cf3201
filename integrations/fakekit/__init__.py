"""Plumbing every fake ATS shares: Request/Reply, a threaded HTTP server, a partner client.

A fake is an object with ``dispatch(Request) -> Reply`` (its whole HTTP surface, so tests can drive
it without a socket), a ``stopping`` event and a ``threads`` list for the background work it starts
(e.g. Greenhouse reading ``test_status`` after our PATCH). ``FakeServer`` turns HTTP into a
``Request`` and a ``Reply`` back into HTTP; ``call`` is how a fake calls *us* (the partner
endpoints), with the standard library only, so the fakes need nothing but Python.
"""

from .client import CallResult, basic_auth, call
from .messages import ApiError, Reply, Request, now_ms
from .server import FakeServer, serve

__all__ = ["ApiError", "CallResult", "FakeServer", "Reply", "Request", "basic_auth", "call",
           "now_ms", "serve"]
