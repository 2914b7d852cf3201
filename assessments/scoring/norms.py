"""Standard scores from a raw score and a norm (DESIGN §3.6).

Everything here works on unrounded floats; rounding happens once, when the envelope is written,
so that a T score and its confidence interval never disagree by a rounding step.
"""

from __future__ import annotations

import math

from .rounding import round_half_away_int

__all__ = [
    "CI90_Z",
    "band_for_sten",
    "ci90_t",
    "normal_cdf",
    "percentile",
    "score_from_percentile",
    "sem_t",
    "sten",
    "t_score",
    "z_score",
]

CI90_Z = 1.645
_SQRT2 = math.sqrt(2.0)


def normal_cdf(z: float) -> float:
    """Phi(z); math.erf is exact to the last bit or two, no table or approximation needed."""
    return 0.5 * (1.0 + math.erf(z / _SQRT2))


def z_score(raw: float, mean: float, sd: float) -> float:
    return (raw - mean) / sd


def t_score(z: float) -> float:
    return 50.0 + 10.0 * z


def percentile(z: float) -> float:
    """Percentile under the normal assumption the catalog norms are published with."""
    return 50.0 * (1.0 + math.erf(z / _SQRT2))


def score_from_percentile(pct: float) -> int:
    """Integer 1-99: ATS fields and reports show a whole number, and 0/100 would overclaim."""
    return min(99, max(1, round_half_away_int(pct)))


def sten(z: float) -> int:
    return min(10, max(1, round_half_away_int(5.5 + 2.0 * z)))


def band_for_sten(value: int) -> str:
    if value <= 3:
        return "low"
    if value <= 7:
        return "average"
    return "high"


def sem_t(reliability: float) -> float:
    """Standard error of measurement in T units (SD of T is 10)."""
    return 10.0 * math.sqrt(1.0 - reliability)


def ci90_t(t: float, sem: float) -> tuple[float, float]:
    half = CI90_Z * sem
    return (t - half, t + half)
