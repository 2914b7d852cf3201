"""The fixed-window limiter of the candidate pages, on the real Redis cache."""

import secrets

import pytest

from assessments.ratelimit import hit, parse_rate


def test_it_allows_the_limit_then_refuses_until_the_window_ends():
    ident = secrets.token_hex(8)
    start = 60 * 16_667 + 20.0  # 20 s into a minute window
    verdicts = [hit("t", ident, "3/m", now=start + i) for i in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert verdicts[-1].retry_after == 37  # the window ends 60 s after it began
    assert hit("t", ident, "3/m", now=start + 60).allowed  # next window
    assert hit("t", secrets.token_hex(8), "3/m", now=start + 3).allowed  # per identity


@pytest.mark.parametrize("rate", ["3", "x/m", "3/d", "", "3/m/s"])
def test_bad_rates_are_named(rate):
    with pytest.raises(ValueError, match="must look like"):
        parse_rate(rate)


def test_good_rates_parse():
    assert parse_rate("30/m") == (30, 60) and parse_rate("5/s") == (5, 1)
    assert parse_rate(" 100 / h ") == (100, 3600)
