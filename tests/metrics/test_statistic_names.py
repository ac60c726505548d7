"""Statistic names and their values, against hand-computed results."""

from __future__ import annotations

import contextlib
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipetrail.metrics.statistic import Kind, nearest_rank, parse_statistic
from pipetrail.model.errors import ValidationError

ONE_TO_TEN = [float(v) for v in range(1, 11)]


def value(name: str, values: list[float]) -> float | None:
    return parse_statistic(name).compute(sorted(values))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("SampleCount", 10.0),
        ("Sum", 55.0),
        ("Average", 5.5),
        ("Minimum", 1.0),
        ("Maximum", 10.0),
        # nearest rank: the smallest value with at least p % of the values <= it
        ("p0", 1.0),
        ("p10", 1.0),
        ("p11", 2.0),
        ("p50", 5.0),
        ("p90", 9.0),
        ("p90.5", 10.0),
        ("p95", 10.0),
        ("p100", 10.0),
        # trimmed statistics with percentage bounds
        ("tm90", 5.0),  # 1..9
        ("tc90", 9.0),
        ("ts90", 45.0),
        ("TM(10%:90%)", 5.5),  # 2..9
        ("TM(10%:)", 6.0),  # 2..10
        ("TC(10%:90%)", 8.0),
        ("TS(10%:90%)", 44.0),
        # IQM of ten values: 3 and 8 count half, 4..7 fully -> (1.5 + 22 + 4) / 5
        ("IQM", 5.5),
        ("TC(25%:75%)", 5.0),
        # winsorized: 10 becomes 9 / 1 becomes 2 and 10 becomes 9
        ("wm90", 5.4),
        ("WM(10%:90%)", 5.5),
        # value bounds: lower excluded, upper included
        ("TM(3:7)", 5.5),  # 4, 5, 6, 7
        ("TC(3:7)", 4.0),
        ("TS(3:7)", 22.0),
        ("TM(:2)", 1.5),
        ("PR(:5)", 50.0),
        ("PR(3:5)", 20.0),
        ("PR(9:)", 10.0),
        ("PR(10:)", 0.0),
    ],
)
def test_statistics_of_one_to_ten(name: str, expected: float) -> None:
    result = value(name, ONE_TO_TEN)
    assert result is not None
    assert result == pytest.approx(expected)


def test_iqm_of_four_values_is_the_mean_of_the_middle_two() -> None:
    assert value("IQM", [4.0, 1.0, 3.0, 2.0]) == pytest.approx(2.5)


def test_fractional_trimmed_count_of_three_values() -> None:
    # rank window [0, 0.5] of three values: 1 counts fully, 2 counts half
    assert value("TC(:50%)", [1.0, 2.0, 3.0]) == pytest.approx(1.5)
    assert value("TM(:50%)", [1.0, 2.0, 3.0]) == pytest.approx(2.0 / 1.5)


def test_empty_trimmed_range_has_no_value() -> None:
    assert value("TM(100:200)", ONE_TO_TEN) is None
    assert value("TC(100:200)", ONE_TO_TEN) == 0.0
    assert value("Average", []) is None


def test_sum_is_exact_for_cancelling_values() -> None:
    assert value("Sum", [1e16, 1.0, -1e16]) == 1.0


def test_percentile_is_not_fooled_by_float_rounding() -> None:
    values = [float(v) for v in range(1, 101)]
    # 0.29 * 100 is 28.999999999999996 in binary floating point
    assert value("p29", values) == 29.0


def test_parsed_fields() -> None:
    p = parse_statistic("p99.9")
    assert p.kind is Kind.PERCENTILE and p.percentile == pytest.approx(0.999)
    assert parse_statistic("Average").standard
    assert not parse_statistic("p50").standard
    iqm = parse_statistic("IQM")
    assert (iqm.kind, iqm.low, iqm.high) == (Kind.TRIMMED_MEAN, 0.25, 0.75)
    assert parse_statistic("TM(150:1000)").percent is False
    assert parse_statistic("tm90").percentile is None


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "is required"),
        ("average", "did you mean 'Average'"),
        ("P99", "lower-case p"),
        ("p101", "outside 0..100"),
        ("p99.12345678901", "at most 10 decimal places"),
        ("p", "unknown statistic"),
        ("tm0", "upper bound must be above 0"),
        ("TM(10%:500)", "not a mix"),
        ("TM(90%:10%)", "low bound must be below"),
        ("TM(:)", "at least one bound"),
        ("TM(10%)", "(low:high)"),
        ("TM(a:b)", "is not a number"),
        ("PR(10%:)", "PR takes value bounds"),
        ("WM(1:5)", "WM takes percentage bounds"),
        ("TM(-5%:10%)", "outside 0..100"),
        ("Median", "unknown statistic"),
    ],
)
def test_bad_names_say_what_is_wrong(name: str, message: str) -> None:
    with pytest.raises(ValidationError, match=None) as caught:
        parse_statistic(name)
    assert message in str(caught.value)


@given(st.text(max_size=40))
def test_parser_raises_only_validation_errors(text: str) -> None:
    with contextlib.suppress(ValidationError):
        parse_statistic(text)


@given(
    st.lists(st.floats(-1e9, 1e9, allow_nan=False), min_size=1, max_size=60),
    st.integers(0, 100),
    st.integers(0, 100),
)
def test_percentiles_are_observed_and_monotone(values: list[float], a: int, b: int) -> None:
    ordered = sorted(values)
    low, high = min(a, b), max(a, b)
    p_low = value(f"p{low}", values)
    p_high = value(f"p{high}", values)
    assert p_low in ordered and p_high in ordered
    assert p_low is not None and p_high is not None and p_low <= p_high
    # at least p % of the values are <= the p-th percentile
    assert sum(1 for v in ordered if v <= p_high) >= high / 100 * len(ordered) - 1e-9


@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=60),
    st.integers(0, 99),
    st.integers(1, 100),
)
def test_trimmed_count_is_the_width_of_the_rank_window(
    values: list[float], low: int, width: int
) -> None:
    high = min(low + width, 100)
    count = value(f"TC({low}%:{high}%)", values)
    assert count == pytest.approx((high - low) / 100 * len(values), abs=1e-6)
    mean = value(f"TM({low}%:{high}%)", values)
    assert mean is not None
    assert min(values) - 1e-6 <= mean <= max(values) + 1e-6


def test_nearest_rank_bounds() -> None:
    assert nearest_rank([3.0], 0.5) == 3.0
    assert nearest_rank([1.0, 2.0], 1.0) == 2.0
    assert math.isclose(nearest_rank([1.0, 2.0], 0.0), 1.0)
