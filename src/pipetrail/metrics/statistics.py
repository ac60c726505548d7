"""Per-period statistics of metric datums, as CloudWatch's GetMetricStatistics computes them.

Periods are aligned to the (rounded) start time: period ``k`` covers
``[start + k*period, start + (k+1)*period)``, for every ``k`` whose period begins before
``end``; the last period may be cut short by ``end`` (exclusive). ``start`` is rounded down
to the whole minute when the period is 60 s or more, and to the whole second otherwise.
A period without datums has no datapoint (CloudWatch leaves it out too). Datums with
different units are aggregated separately, one datapoint per unit, unless ``unit`` picks
one.

Limits (CloudWatch's, kept): the period is 1, 5, 10, 20, 30 seconds or a multiple of 60;
at most 5 standard and 10 extended statistics per call; at most 1,440 periods per call.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipetrail.metrics.statistic import Statistic, parse_statistic
from pipetrail.model.clock import iso_from_ms
from pipetrail.model.errors import ValidationError
from pipetrail.model.metrics import UNITS, MetricDatum

MAX_DATAPOINTS = 1440
MAX_STANDARD_STATISTICS = 5
MAX_EXTENDED_STATISTICS = 10
HIGH_RESOLUTION_PERIODS = (1, 5, 10, 20, 30)


@dataclass(frozen=True)
class Datapoint:
    """The statistics of one period (and one unit). ``timestamp`` is the period start (ms)."""

    timestamp: int
    sample_count: int
    unit: str = "None"
    values: Mapping[str, float] = field(default_factory=dict)

    def value(self, statistic: str) -> float | None:
        """The value of a statistic, or None when the period gives it no value."""
        return self.values.get(statistic)

    def to_json(self) -> dict[str, Any]:
        return {
            "timestamp": iso_from_ms(self.timestamp),
            "sampleCount": self.sample_count,
            "unit": self.unit,
            "statistics": dict(self.values),
        }


def validate_period(
    period: object,
    *,
    what: str = "period",
    high_resolution: tuple[int, ...] = HIGH_RESOLUTION_PERIODS,
) -> int:
    """Check a period in seconds: one of ``high_resolution`` or a multiple of 60."""
    if isinstance(period, bool) or not isinstance(period, int):
        raise ValidationError(f"{what} must be a whole number of seconds, got {period!r}")
    if period <= 0:
        raise ValidationError(f"{what} must be positive, got {period}")
    if period not in high_resolution and period % 60 != 0:
        allowed = ", ".join(str(p) for p in high_resolution)
        raise ValidationError(
            f"{what} {period} s is not allowed: use {allowed} or a multiple of 60"
        )
    return period


def parse_statistics(names: Sequence[str]) -> list[Statistic]:
    """Parse the requested statistic names (duplicates dropped, order kept)."""
    if isinstance(names, str):
        names = [names]
    if not names:
        raise ValidationError("ask for at least one statistic")
    parsed: list[Statistic] = []
    seen: set[str] = set()
    for name in names:
        if name in seen:
            continue
        seen.add(name)
        parsed.append(parse_statistic(name))
    standard = sum(1 for s in parsed if s.standard)
    if standard > MAX_STANDARD_STATISTICS:
        raise ValidationError(f"at most {MAX_STANDARD_STATISTICS} standard statistics per call")
    if len(parsed) - standard > MAX_EXTENDED_STATISTICS:
        raise ValidationError(f"at most {MAX_EXTENDED_STATISTICS} extended statistics per call")
    return parsed


def align_start(start: int, period: int) -> int:
    """Round a start time (ms) down to the whole minute (period >= 60 s) or second."""
    step = 60_000 if period >= 60 else 1_000
    return start - start % step


def period_count(start: int, end: int, period: int) -> int:
    """How many periods [start, end) spans once ``start`` is aligned."""
    aligned = align_start(start, period)
    span = end - aligned
    step = period * 1000
    return -(-span // step)


def validate_range(start: object, end: object, period: int) -> None:
    """Check start < end (epoch ms) and the datapoint limit."""
    for what, value in (("start", start), ("end", end)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"{what} must be a time in epoch milliseconds, got {value!r}")
    assert isinstance(start, int) and isinstance(end, int)
    if start >= end:
        raise ValidationError(
            f"start ({iso_from_ms(start)}) must be before end ({iso_from_ms(end)})"
        )
    count = period_count(start, end, period)
    if count > MAX_DATAPOINTS:
        raise ValidationError(
            f"the range holds {count} periods of {period} s; at most {MAX_DATAPOINTS} "
            "datapoints are returned per call: use a longer period or a shorter range"
        )


def get_statistics(
    datums: Iterable[MetricDatum],
    *,
    start: int,
    end: int,
    period: int,
    statistics: Sequence[str],
    unit: str | None = None,
) -> list[Datapoint]:
    """The requested statistics for each period of [start, end) that has datums.

    ``start``/``end`` are epoch milliseconds, ``period`` is in seconds. Datapoints come
    back ordered by time (then unit).
    """
    validate_period(period)
    validate_range(start, end, period)
    parsed = parse_statistics(statistics)
    if unit is not None and unit not in UNITS:
        raise ValidationError(f"unknown unit {unit!r}")
    origin = align_start(start, period)
    step = period * 1000
    groups: dict[tuple[int, str], list[float]] = defaultdict(list)
    for datum in datums:
        if not origin <= datum.timestamp < end:
            continue
        if unit is not None and datum.unit != unit:
            continue
        bucket = origin + (datum.timestamp - origin) // step * step
        groups[(bucket, datum.unit)].append(datum.value)
    points: list[Datapoint] = []
    for (bucket, group_unit), values in sorted(groups.items()):
        values.sort()
        computed: dict[str, float] = {}
        for statistic in parsed:
            result = statistic.compute(values)
            if result is not None:
                computed[statistic.name] = result
        points.append(Datapoint(bucket, len(values), group_unit, computed))
    return points


def by_timestamp(datapoints: Iterable[Datapoint]) -> dict[int, Datapoint]:
    """Index datapoints by period start; refuses two units in one period (ask for a unit)."""
    indexed: dict[int, Datapoint] = {}
    for point in datapoints:
        if point.timestamp in indexed:
            raise ValidationError(
                f"the period at {iso_from_ms(point.timestamp)} has datums in more than one "
                f"unit ({indexed[point.timestamp].unit}, {point.unit}): choose a unit"
            )
        indexed[point.timestamp] = point
    return indexed


def values_by_timestamp(datapoints: Iterable[Datapoint], statistic: str) -> dict[int, float]:
    """One statistic's values by period start, for example to train an anomaly band."""
    values: dict[int, float] = {}
    for point in by_timestamp(datapoints).values():
        value = point.value(statistic)
        if value is not None:
            values[point.timestamp] = value
    return values
