"""Errors raised by the scoring engine.

Both subclass ValueError so that callers which only know "the input was bad" (a view answering
400, a management command) can catch one type; callers that care can tell a broken catalog file
(our fault) from a bad answer set (the client's fault).
"""

from __future__ import annotations


class ScoringInputError(ValueError):
    """The answers (or timings) handed to the engine do not fit the test; nothing was scored."""


class CatalogError(ValueError):
    """A catalog test dict cannot be compiled; the catalog file needs fixing, not the request."""


def unknown_item_error(slug: str, version: str, item_id: object) -> ScoringInputError:
    return ScoringInputError(
        f"item {item_id!r} is not in test {slug!r} (version {version!r}); "
        "were these answers given for another test?"
    )
