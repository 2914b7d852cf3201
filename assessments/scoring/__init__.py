"""Pure scoring engine for catalog tests (DESIGN §3.6).

No Django, no I/O: a catalog test dict and a candidate's answers go in, a frozen TestScore comes
out. assessments.envelope turns a TestScore into the v1 result envelope.

Composites (domain-level aggregates such as IPIP-NEO-120 domains or HEXACO Honesty-Humility) are
not scored in v1: the envelope reports the catalog's dimensions only.
"""

from .compile import CompiledDimension, CompiledTest, clear_compiled_cache, compile_test
from .engine import score_test
from .errors import CatalogError, ScoringInputError
from .quality import INSUFFICIENT_ITEMS, LONGSTRING, TOO_FAST
from .result import DimensionScore, Overall, TestScore
from .rounding import round_half_away, round_half_away_int

__all__ = [
    "INSUFFICIENT_ITEMS",
    "LONGSTRING",
    "TOO_FAST",
    "CatalogError",
    "CompiledDimension",
    "CompiledTest",
    "DimensionScore",
    "Overall",
    "ScoringInputError",
    "TestScore",
    "clear_compiled_cache",
    "compile_test",
    "round_half_away",
    "round_half_away_int",
    "score_test",
]
