"""Standard-score formulas (DESIGN §3.6) and the engine's agreement with them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assessments.scoring import compile_test, score_test
from assessments.scoring.compile import CompiledDimension, CompiledTest
from assessments.scoring.engine import _standardise
from assessments.scoring.norms import (
    band_for_sten,
    ci90_t,
    normal_cdf,
    percentile,
    score_from_percentile,
    sem_t,
    sten,
    t_score,
    z_score,
)
from assessments.scoring.samples import likert_test


@pytest.mark.parametrize(
    ("z", "phi"),
    [(0.0, 0.5), (1.0, 0.8413447460685429), (-1.0, 0.15865525393145707),
     (1.959963984540054, 0.975), (-3.0, 0.0013498980316301035)],
)  # fmt: skip
def test_normal_cdf(z: float, phi: float) -> None:
    assert normal_cdf(z) == pytest.approx(phi, abs=1e-15)


def test_formulas() -> None:
    assert z_score(4.2, 3.0, 1.0) == pytest.approx(1.2)
    assert t_score(1.2) == pytest.approx(62.0)
    assert percentile(0.0) == 50.0
    assert percentile(1.2) == pytest.approx(88.49303297782918)
    assert sem_t(0.84) == pytest.approx(4.0)
    assert sem_t(1.0) == 0.0 and sem_t(0.0) == 10.0
    assert ci90_t(50.0, 4.0) == pytest.approx((43.42, 56.58))


@pytest.mark.parametrize(
    ("pct", "score"),
    [(0.0, 1), (0.49, 1), (0.5, 1), (1.49, 1), (1.5, 2), (50.5, 51), (98.49, 98), (98.5, 99),
     (99.9, 99), (100.0, 99)],
)  # fmt: skip
def test_score_from_percentile(pct: float, score: int) -> None:
    assert score_from_percentile(pct) == score


@pytest.mark.parametrize(
    ("z", "expected"),
    [(-10, 1), (-2.25, 1), (-2.0, 2), (-1.75, 2), (-1.25, 3), (-1.0, 4), (0.0, 6), (0.25, 6),
     (0.5, 7), (1.0, 8), (2.0, 10), (2.25, 10), (10, 10)],
)  # fmt: skip
def test_sten(z: float, expected: int) -> None:
    # -2.25 -> 1.0; -1.75 -> 2.0; -1.25 -> 3.0; 0.25 -> 6.0; 0.5 -> 6.5 -> 7; 2.25 -> 10.0
    assert sten(z) == expected


@pytest.mark.parametrize(
    ("value", "band"),
    [(1, "low"), (3, "low"), (4, "average"), (7, "average"), (8, "high"), (10, "high")],
)
def test_band_for_sten(value: int, band: str) -> None:
    assert band_for_sten(value) == band


def _dimension(mean: float, sd: float, reliability: float | None) -> CompiledDimension:
    sem = None if reliability is None else sem_t(reliability)
    return CompiledDimension(
        key="d", name="D", index=0, n_items=10, norm_mean=mean, norm_sd=sd, norm_source="s",
        reliability=reliability, sem_t=sem, ci90_half_width=None if sem is None else 1.645 * sem,
    )  # fmt: skip


@given(
    raw=st.floats(min_value=0, max_value=120, allow_nan=False),
    mean=st.floats(min_value=0, max_value=120, allow_nan=False),
    sd=st.floats(min_value=0.01, max_value=40, allow_nan=False),
    reliability=st.none() | st.floats(min_value=0, max_value=1),
)
def test_engine_inlines_exactly_the_norms_formulas(
    raw: float, mean: float, sd: float, reliability: float | None
) -> None:
    got = _standardise(_dimension(mean, sd, reliability), raw, 10)
    z = z_score(raw, mean, sd)
    t = t_score(z)
    assert got.z == z and got.t_score == t and got.percentile == percentile(z)
    assert got.score == score_from_percentile(percentile(z))
    assert got.sten == sten(z) and got.band == band_for_sten(sten(z))
    if reliability is None:
        assert got.sem_t is None and got.ci90_t is None
    else:
        assert got.sem_t == sem_t(reliability)
        assert got.ci90_t == ci90_t(t, sem_t(reliability))


def test_score_test_accepts_a_compiled_test() -> None:
    test = likert_test([{"key": "a", "keyed": "+"}], slug="norms-compiled")
    compiled = compile_test(test)
    assert isinstance(compiled, CompiledTest)
    assert score_test(compiled, {"a1": 3}).dimension("a").raw == 3.0
    assert score_test(test, {"a1": "5"}).dimension("a").raw == 5.0
