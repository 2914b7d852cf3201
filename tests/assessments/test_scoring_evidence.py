"""Experimental tests report raw scores only, even when their file carries norms."""

from assessments.scoring import score_test
from assessments.scoring.samples import likert_test

NORMS = {"metric": "mean", "mean": 3.0, "sd": 0.5, "n": 100, "source": "test"}


def _test(evidence: str) -> dict:
    return likert_test([{"key": "a", "keyed": "+++++", "norms": NORMS, "reliability": 0.8}],
                       slug=f"evidence-{evidence}", evidence=evidence)


ALL_FIVES = {f"a{i}": 5 for i in range(1, 6)}


def test_a_validated_test_gets_standard_scores():
    dim = score_test(_test("validated"), ALL_FIVES).dimension("a")
    assert dim.raw == 5.0 and dim.z == 4.0 and dim.score == 99 and dim.sem_t is not None


def test_an_experimental_test_gets_raw_scores_only():
    dim = score_test(_test("experimental"), ALL_FIVES).dimension("a")
    assert dim.raw == 5.0
    assert (dim.z, dim.t_score, dim.percentile, dim.score, dim.sten, dim.band) == (None,) * 6
    assert dim.sem_t is None and dim.ci90_t is None
