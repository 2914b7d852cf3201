"""Round half away from zero, decided on the decimal the reader sees (DESIGN §3.6)."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assessments.scoring.rounding import round_half_away, round_half_away_int


@pytest.mark.parametrize(
    ("value", "ndigits", "expected"),
    [
        (2.5, 0, 3.0),
        (-2.5, 0, -3.0),
        (0.5, 0, 1.0),
        (-0.5, 0, -1.0),
        (1.5, 0, 2.0),
        (6.5, 0, 7.0),  # banker's rounding would give 6
        (4.5, 0, 5.0),  # ... and 4 here
        (0.25, 1, 0.3),
        (-0.25, 1, -0.3),
        (0.35, 1, 0.4),  # stored as 0.34999999999999997: judged on the decimal
        (0.45, 1, 0.5),
        (1.45, 1, 1.5),
        (2.675, 2, 2.68),  # stored as 2.67499999999999982236431605997495353221893310546875
        (1.005, 2, 1.01),
        (0.125, 2, 0.13),
        (-0.125, 2, -0.13),
        (12345.65, 1, 12345.7),
        (3.74165738677, 2, 3.74),
        (65.94, 1, 65.9),
        (0.0, 1, 0.0),
        (7.0, 1, 7.0),
        (0.49999999999999994, 0, 0.0),  # the largest float below 0.5 is not a tie
        (0.04999, 1, 0.0),
    ],
)
def test_round_half_away(value: float, ndigits: int, expected: float) -> None:
    assert round_half_away(value, ndigits) == expected


def test_python_round_differs_which_is_why_we_do_not_use_it() -> None:
    assert round(2.5) == 2 and round_half_away_int(2.5) == 3
    assert round(0.35, 1) == 0.3 and round_half_away(0.35, 1) == 0.4


def test_never_negative_zero() -> None:
    result = round_half_away(-0.04, 1)
    assert result == 0.0 and math.copysign(1.0, result) == 1.0


@pytest.mark.parametrize(("value", "expected"), [(2.5, 3), (-2.5, -3), (2.4999, 2), (98.5, 99)])
def test_round_half_away_int(value: float, expected: int) -> None:
    result = round_half_away_int(value)
    assert result == expected and isinstance(result, int)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="non-finite"):
        round_half_away(bad, 1)


def test_ndigits_range() -> None:
    with pytest.raises(ValueError, match="ndigits"):
        round_half_away(1.0, -1)


@given(
    st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False),
    st.integers(min_value=0, max_value=3),
)
def test_matches_decimal_half_up_on_the_repr(value: float, ndigits: int) -> None:
    """The fast float path and the Decimal reference agree everywhere scores can live."""
    expected = float(
        Decimal(repr(value)).quantize(Decimal(1).scaleb(-ndigits), rounding=ROUND_HALF_UP)
    )
    assert round_half_away(value, ndigits) == (expected if expected != 0 else 0.0)


@given(st.integers(min_value=-(10**6), max_value=10**6), st.integers(min_value=0, max_value=3))
def test_exact_ties_go_away_from_zero(whole: int, ndigits: int) -> None:
    """x.5 in the last kept place always moves away from zero, whatever its binary form."""
    text = f"{whole}.{'0' * ndigits}5" if ndigits else f"{whole}.5"
    value = float(text)
    result = Decimal(repr(round_half_away(value, ndigits)))
    expected = Decimal(text).quantize(Decimal(1).scaleb(-ndigits), rounding=ROUND_HALF_UP)
    assert result == expected
    assert abs(result) > abs(Decimal(text))
