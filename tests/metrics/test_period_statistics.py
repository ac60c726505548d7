"""Per-period statistics of datums: alignment, grouping, units and limits."""

from __future__ import annotations

import pytest

from pipetrail.metrics.statistics import (
    MAX_DATAPOINTS,
    Datapoint,
    align_start,
    by_timestamp,
    get_statistics,
    validate_period,
    values_by_timestamp,
)
from pipetrail.model.clock import parse_time
from pipetrail.model.errors import ValidationError
from pipetrail.model.metrics import MetricDatum

T0 = parse_time("2026-11-25T12:00:00Z")
MINUTE = 60_000


def datum(offset_ms: int, value: float, unit: str = "Count") -> MetricDatum:
    return MetricDatum("Pipetrail/Jobs", "recordsRead", T0 + offset_ms, value, unit)


def test_statistics_per_period() -> None:
    datums = [
        datum(0, 4.0), datum(10_000, 1.0), datum(59_999, 7.0),  # 12:00
        datum(MINUTE + 5_000, 2.0),  # 12:01
        datum(3 * MINUTE, 10.0), datum(3 * MINUTE + 1, 20.0),  # 12:03
    ]
    points = get_statistics(
        datums, start=T0, end=T0 + 5 * MINUTE, period=60,
        statistics=["SampleCount", "Sum", "Average", "Minimum", "Maximum", "p50"],
    )
    assert [p.timestamp for p in points] == [T0, T0 + MINUTE, T0 + 3 * MINUTE]  # 12:02 empty
    first = points[0]
    assert first.sample_count == 3
    assert dict(first.values) == {
        "SampleCount": 3.0, "Sum": 12.0, "Average": 4.0, "Minimum": 1.0, "Maximum": 7.0,
        "p50": 4.0,
    }
    assert points[2].values["Average"] == 15.0
    assert points[2].values["p50"] == 10.0


def test_start_is_inclusive_and_end_exclusive() -> None:
    datums = [datum(-1, 1.0), datum(0, 2.0), datum(2 * MINUTE - 1, 3.0), datum(2 * MINUTE, 4.0)]
    points = get_statistics(datums, start=T0, end=T0 + 2 * MINUTE, period=60,
                            statistics=["Sum"])
    assert [(p.timestamp, p.values["Sum"]) for p in points] == [
        (T0, 2.0), (T0 + MINUTE, 3.0),
    ]


def test_periods_align_to_the_rounded_start() -> None:
    # 12:32:34 rounds down to 12:32:00; five-minute periods then start 12:32, 12:37, ...
    start = parse_time("2026-11-25T12:32:34Z")
    rounded = parse_time("2026-11-25T12:32:00Z")
    assert align_start(start, 300) == rounded
    datums = [datum(32 * MINUTE + 10_000, 1.0), datum(37 * MINUTE, 2.0), datum(41 * MINUTE, 3.0)]
    points = get_statistics(datums, start=start, end=start + 10 * MINUTE, period=300,
                            statistics=["Sum"])
    assert [p.timestamp for p in points] == [rounded, rounded + 5 * MINUTE]
    assert [p.values["Sum"] for p in points] == [1.0, 5.0]


def test_high_resolution_periods_round_to_the_second() -> None:
    start = T0 + 12_345
    assert align_start(start, 10) == T0 + 12_000
    datums = [datum(12_500, 1.0), datum(21_999, 2.0), datum(22_000, 3.0)]
    points = get_statistics(datums, start=start, end=T0 + 40_000, period=10,
                            statistics=["Maximum"])
    assert [(p.timestamp - T0, p.values["Maximum"]) for p in points] == [
        (12_000, 2.0), (22_000, 3.0),
    ]


def test_units_are_aggregated_separately_unless_one_is_chosen() -> None:
    datums = [datum(0, 1.0, "Count"), datum(1, 100.0, "Bytes"), datum(2, 3.0, "Count")]
    points = get_statistics(datums, start=T0, end=T0 + MINUTE, period=60, statistics=["Sum"])
    assert [(p.unit, p.values["Sum"]) for p in points] == [("Bytes", 100.0), ("Count", 4.0)]
    with pytest.raises(ValidationError, match="more than one unit"):
        by_timestamp(points)
    chosen = get_statistics(datums, start=T0, end=T0 + MINUTE, period=60, statistics=["Sum"],
                            unit="Count")
    assert by_timestamp(chosen)[T0].values["Sum"] == 4.0


def test_statistic_without_value_is_left_out_of_the_datapoint() -> None:
    points = get_statistics([datum(0, 1.0)], start=T0, end=T0 + MINUTE, period=60,
                            statistics=["TM(5:10)", "SampleCount"])
    assert dict(points[0].values) == {"SampleCount": 1.0}
    assert points[0].value("TM(5:10)") is None


def test_datapoint_json() -> None:
    point = Datapoint(T0, 2, "Count", {"Average": 1.5, "p99": 2.0})
    assert point.to_json() == {
        "timestamp": "2026-11-25T12:00:00.000Z",
        "sampleCount": 2,
        "unit": "Count",
        "statistics": {"Average": 1.5, "p99": 2.0},
    }


@pytest.mark.parametrize("period", [1, 5, 10, 20, 30, 60, 120, 300, 3600, 86400])
def test_allowed_periods(period: int) -> None:
    assert validate_period(period) == period


@pytest.mark.parametrize(
    ("period", "message"),
    [(0, "positive"), (-60, "positive"), (45, "not allowed"), (61, "not allowed"),
     (90, "not allowed"), (True, "whole number"), (60.0, "whole number"), ("60", "whole number")],
)
def test_refused_periods(period: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        validate_period(period)


def test_datapoint_limit() -> None:
    day = 1440 * MINUTE
    assert get_statistics([], start=T0, end=T0 + day, period=60, statistics=["Sum"]) == []
    with pytest.raises(ValidationError, match=f"at most {MAX_DATAPOINTS} datapoints"):
        get_statistics([], start=T0, end=T0 + day + 1, period=60, statistics=["Sum"])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": T0, "end": T0}, "must be before end"),
        ({"start": T0 + 1, "end": T0}, "must be before end"),
        ({"statistics": []}, "at least one statistic"),
        ({"statistics": ["Mean"]}, "unknown statistic"),
        ({"statistics": [f"p{i}" for i in range(11)]}, "at most 10 extended"),
        ({"unit": "Parsecs"}, "unknown unit"),
        ({"start": "yesterday"}, "epoch milliseconds"),
    ],
)
def test_bad_requests(kwargs: dict[str, object], message: str) -> None:
    request: dict[str, object] = {
        "start": T0, "end": T0 + MINUTE, "period": 60, "statistics": ["Sum"],
    }
    request.update(kwargs)
    with pytest.raises(ValidationError, match=message):
        get_statistics([], **request)  # type: ignore[arg-type]


def test_duplicate_statistics_are_computed_once() -> None:
    points = get_statistics([datum(0, 2.0)], start=T0, end=T0 + MINUTE, period=60,
                            statistics=["Sum", "Sum", "p50", "p50"])
    assert dict(points[0].values) == {"Sum": 2.0, "p50": 2.0}


def test_values_of_one_statistic_by_period() -> None:
    datums = [datum(0, 1.0), datum(1, 3.0), datum(2 * MINUTE, 5.0)]
    points = get_statistics(datums, start=T0, end=T0 + 3 * MINUTE, period=60,
                            statistics=["Average", "TM(4:10)"])
    assert values_by_timestamp(points, "Average") == {T0: 2.0, T0 + 2 * MINUTE: 5.0}
    assert values_by_timestamp(points, "TM(4:10)") == {T0 + 2 * MINUTE: 5.0}
