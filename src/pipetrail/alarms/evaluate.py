"""Metric alarm evaluation with CloudWatch's M-out-of-N and missing-data rules.

One evaluation looks at the *evaluation range*: the ``N + 2`` most recent complete
periods (CloudWatch fetches more periods than ``EvaluationPeriods`` N and does not publish
how many; its documented example uses 5 for N = 3, which ``N + 2`` reproduces). Periods
end on the evaluation cadence: every minute for periods of 60 s or more, every 10 s for
high-resolution periods, so a 5-minute alarm slides minute by minute.

Then, with M = DatapointsToAlarm:

1. If the range holds at least N real datapoints, the N most recent real ones are
   evaluated (older ones from the range fill in for missing recent ones);
   TreatMissingData is not needed. ALARM when at least M breach, else OK.
2. Otherwise all real datapoints are evaluated and missing ones are filled in as few
   times as possible (N minus the real ones):

   * ``breaching`` / ``notBreaching``: the fills count as breaching / not breaching;
     ALARM when at least M of the N breach, else OK.
   * ``missing``: no real datapoint -> INSUFFICIENT_DATA. At least M real breaching ->
     ALARM. A real non-breaching datapoint -> OK. Only breaching real datapoints, fewer
     than M: ALARM when the oldest breaching one is at least M periods old (counting the
     newest period as 1) -- CloudWatch's rule against both premature and missed alarms --
     else INSUFFICIENT_DATA.
   * ``ignore``: as ``missing``, except that where ``missing`` would give
     INSUFFICIENT_DATA or the age-based ALARM, the alarm keeps its current state.

A datapoint breaches when the comparison operator holds for it (the statistic is the
left operand; band operators compare with the period's anomaly band, and a period with a
datapoint but no band counts as missing). For percentile alarms with
``EvaluateLowSampleCountPercentile = ignore``, a period with fewer samples than
``10 / (1 - p)`` (p >= 0.5) or ``10 / p`` (p < 0.5) keeps the alarm in its current state.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipetrail.alarms.anomaly import Band
from pipetrail.alarms.definition import (
    ComparisonOperator,
    LowSampleCount,
    MetricAlarm,
    TreatMissingData,
)
from pipetrail.alarms.reason import datapoint_time, java_double, plural, was_were
from pipetrail.alarms.state import AlarmState, Evaluation, StateValue, conclude, reason_time
from pipetrail.metrics.statistics import Datapoint
from pipetrail.model.clock import iso_from_ms
from pipetrail.model.errors import ValidationError

EXTRA_PERIODS = 2
STANDARD_CADENCE_MS = 60_000
HIGH_RESOLUTION_CADENCE_MS = 10_000
ALARM_TYPE = "MetricAlarm"


@dataclass(frozen=True)
class Slot:
    """One period of the evaluation range."""

    timestamp: int
    value: float | None = None
    sample_count: float | None = None
    band: Band | None = None
    breaching: bool | None = None  # None: missing

    @property
    def present(self) -> bool:
        return self.breaching is not None


def evaluation_range(alarm: MetricAlarm) -> int:
    """How many periods one evaluation fetches: N + 2."""
    return alarm.evaluation_periods + EXTRA_PERIODS


def cadence_ms(alarm: MetricAlarm) -> int:
    """How often the alarm is evaluated: every minute for periods of a minute or more,
    every 10 s for 10-30 s periods (as CloudWatch), every period for 1 and 5 s periods."""
    if alarm.period >= 60:
        return STANDARD_CADENCE_MS
    return min(HIGH_RESOLUTION_CADENCE_MS, alarm.period * 1000)


def evaluation_window(
    alarm: MetricAlarm, now: int, range_periods: int | None = None
) -> tuple[int, int]:
    """[start, end) in ms of the evaluation range at ``now``; its periods start at ``start``."""
    periods = evaluation_range(alarm) if range_periods is None else range_periods
    if periods < alarm.evaluation_periods:
        raise ValidationError(
            f"the evaluation range ({periods} periods) cannot be shorter than "
            f"EvaluationPeriods ({alarm.evaluation_periods})"
        )
    step = cadence_ms(alarm)
    end = now - now % step
    return end - periods * alarm.period * 1000, end


def slot_starts(alarm: MetricAlarm, now: int, range_periods: int | None = None) -> list[int]:
    """The period starts of the evaluation range, newest first."""
    start, end = evaluation_window(alarm, now, range_periods)
    step = alarm.period * 1000
    return list(range(end - step, start - 1, -step))


def evaluate(
    alarm: MetricAlarm,
    datapoints: Mapping[int, Datapoint | float],
    previous: AlarmState,
    now: int,
    *,
    bands: Mapping[int, Band] | None = None,
    range_periods: int | None = None,
) -> Evaluation:
    """Evaluate ``alarm`` at ``now`` (ms) from its datapoints by period start.

    ``datapoints`` maps a period start to a Datapoint (its value for the alarm's
    statistic is used) or to the value itself. ``bands`` maps period starts to the
    anomaly band, for the band operators. ``previous`` is the alarm's current state.
    """
    alarm.validate()
    slots = _slots(alarm, datapoints, bands, now, range_periods)
    value, reason, reason_data = _decide(alarm, slots, previous, now)
    return conclude(
        alarm_name=alarm.name, alarm_type=ALARM_TYPE, previous=previous, value=value,
        reason=reason, reason_data=reason_data, now=now,
    )


# -- building the slots -----------------------------------------------------------------


def _slots(
    alarm: MetricAlarm,
    datapoints: Mapping[int, Datapoint | float],
    bands: Mapping[int, Band] | None,
    now: int,
    range_periods: int | None,
) -> list[Slot]:
    starts = slot_starts(alarm, now, range_periods)
    oldest, newest = starts[-1], starts[0]
    step = alarm.period * 1000
    for key in datapoints:
        if oldest <= key < newest + step and (key - oldest) % step:
            raise ValidationError(
                f"datapoint at {iso_from_ms(key)} does not start a period of the evaluation "
                f"range (periods of {alarm.period} s starting at {iso_from_ms(oldest)})"
            )
    operator = alarm.operator
    if operator.uses_band and bands is None:
        raise ValidationError(f"{operator.value} needs the anomaly bands of the periods")
    slots: list[Slot] = []
    for start in starts:
        raw = datapoints.get(start)
        value, samples = _value_of(raw, alarm.stat)
        if value is None:
            slots.append(Slot(start))
            continue
        band = bands.get(start) if bands is not None else None
        if operator.uses_band and band is None:
            slots.append(Slot(start, value, samples))
            continue
        breaching = operator.breaches(value, alarm.threshold, band)
        slots.append(Slot(start, value, samples, band, breaching))
    return slots


def _value_of(raw: Datapoint | float | None, stat: str) -> tuple[float | None, float | None]:
    if raw is None:
        return None, None
    if isinstance(raw, Datapoint):
        return raw.value(stat), float(raw.sample_count)
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise ValidationError(f"a datapoint must be a number or a Datapoint, got {raw!r}")
    value = float(raw)
    if not math.isfinite(value):
        raise ValidationError(f"datapoint value {value} is not finite")
    return value, None


# -- the decision -----------------------------------------------------------------------

_Reason = tuple[str, dict[str, Any] | None]
_Outcome = tuple[StateValue, str, dict[str, Any] | None]


def _decide(alarm: MetricAlarm, slots: list[Slot], previous: AlarmState, now: int) -> _Outcome:
    n = alarm.evaluation_periods
    m = alarm.required_breaches
    real = [slot for slot in slots if slot.present]
    low = _low_sample(alarm, real[:n], previous)
    if low is not None:
        return previous.value, low, None
    if len(real) >= n:
        window = real[:n]
        breaches = sum(1 for s in window if s.breaching)
        value = StateValue.ALARM if breaches >= m else StateValue.OK
        return value, *_crossed(alarm, window, value, now, fills=0, fill_as=None)
    fills = n - len(real)
    missing_slots = [slot for slot in slots if not slot.present]
    filled = missing_slots[:fills]
    treatment = alarm.missing_data
    if treatment in (TreatMissingData.BREACHING, TreatMissingData.NOT_BREACHING):
        as_breaching = treatment is TreatMissingData.BREACHING
        breaches = sum(1 for s in real if s.breaching) + (fills if as_breaching else 0)
        value = StateValue.ALARM if breaches >= m else StateValue.OK
        window = sorted(real + filled, key=lambda s: -s.timestamp)
        return value, *_crossed(alarm, window, value, now, fills=fills, fill_as=as_breaching)
    keep = treatment is TreatMissingData.IGNORE
    if not real:
        if keep:
            return previous.value, _ignored(len(slots), 0, previous), None
        return StateValue.INSUFFICIENT_DATA, *_unknown(alarm, slots, now)
    breaching = [s for s in real if s.breaching]
    window = sorted(real + filled, key=lambda s: -s.timestamp)
    if len(breaching) >= m:
        return StateValue.ALARM, *_crossed(alarm, window, StateValue.ALARM, now, fills=0,
                                           fill_as=None)
    if len(breaching) < len(real):
        return StateValue.OK, *_crossed(alarm, window, StateValue.OK, now, fills=0,
                                        fill_as=None)
    age = slots.index(breaching[-1]) + 1
    if keep:
        return previous.value, _ignored(len(slots), len(real), previous), None
    if age >= m:
        return StateValue.ALARM, *_aged(alarm, window, breaching, age, now)
    return StateValue.INSUFFICIENT_DATA, *_too_recent(alarm, slots, window, breaching, age, now)


def _low_sample(
    alarm: MetricAlarm, evaluated: Sequence[Slot], previous: AlarmState
) -> str | None:
    if alarm.evaluate_low_sample_count_percentile is None:
        return None
    if LowSampleCount(alarm.evaluate_low_sample_count_percentile) is LowSampleCount.EVALUATE:
        return None
    p = alarm.parsed_statistic.percentile
    if p is None or p <= 0.0 or p >= 1.0:
        return None
    needed = 10.0 / (1.0 - p) if p >= 0.5 else 10.0 / p
    for slot in evaluated:
        if slot.sample_count is not None and slot.sample_count < needed:
            return (
                f"Percentile with low samples: the datapoint of "
                f"{datapoint_time(slot.timestamp)} has {java_double(slot.sample_count)} "
                f"samples, fewer than the {math.ceil(needed)} that {alarm.stat} needs; "
                f"the alarm stays in {previous.value.value}."
            )
    return None


# -- reasons ----------------------------------------------------------------------------


def _crossed(
    alarm: MetricAlarm,
    window: Sequence[Slot],
    value: StateValue,
    now: int,
    *,
    fills: int,
    fill_as: bool | None,
) -> _Reason:
    """A "Threshold Crossed" reason for ALARM or OK, and its reason data."""
    n = alarm.evaluation_periods
    alarming = value is StateValue.ALARM
    real = [s for s in window if s.present]
    listed = [s for s in real if s.breaching == alarming]
    prefix = _prefix(alarm)
    treated = ""
    if fills:
        treated = (
            f" and {plural(fills, 'missing datapoint')} {was_were(fills)} treated as "
            f"[{'Breaching' if fill_as else 'NonBreaching'}]"
        )
    if fills and not listed:
        if not real:
            text = (f"{prefix}: no datapoints were received for {n} periods{treated}.")
        else:
            text = (f"{prefix}: {plural(len(real), 'datapoint')} {was_were(len(real))} "
                    f"received for {n} periods{treated}.")
    else:
        minimum = alarm.required_breaches if alarming else n - alarm.required_breaches + 1
        transition = "OK -> ALARM" if alarming else "ALARM -> OK"
        text = (
            f"{prefix}: {len(listed)} out of the last {n} datapoints {_listing(listed)} "
            f"{was_were(len(listed))} {_comparison(alarm, listed, negated=not alarming)}"
            f"{treated} (minimum {plural(minimum, 'datapoint')} for {transition} transition)."
        )
    return text, _data(alarm, window, now)


def _aged(
    alarm: MetricAlarm, window: Sequence[Slot], breaching: Sequence[Slot], age: int, now: int
) -> _Reason:
    m = alarm.required_breaches
    text = (
        f"{_prefix(alarm)}: {len(breaching)} out of the last {alarm.evaluation_periods} "
        f"datapoints {_listing(breaching)} {was_were(len(breaching))} "
        f"{_comparison(alarm, breaching, negated=False)} and the oldest of them is "
        f"{plural(age, 'period')} old with only breaching or missing datapoints since "
        f"(minimum {plural(m, 'datapoint')} for OK -> ALARM transition)."
    )
    return text, _data(alarm, window, now)


def _too_recent(
    alarm: MetricAlarm,
    slots: Sequence[Slot],
    window: Sequence[Slot],
    breaching: Sequence[Slot],
    age: int,
    now: int,
) -> _Reason:
    unknown = sum(1 for s in slots if not s.present)
    m = alarm.required_breaches
    text = (
        f"Insufficient Data: {plural(len(breaching), 'datapoint')} {_listing(breaching)} "
        f"{was_were(len(breaching))} {_comparison(alarm, breaching, negated=False)} but "
        f"the oldest is only {plural(age, 'period')} old, and {unknown} datapoints "
        f"{was_were(unknown)} unknown (minimum {plural(m, 'datapoint')} for OK -> ALARM "
        "transition)."
    )
    return text, _data(alarm, window, now)


def _unknown(alarm: MetricAlarm, slots: Sequence[Slot], now: int) -> _Reason:
    count = len(slots)
    text = f"Insufficient Data: {plural(count, 'datapoint')} {was_were(count)} unknown."
    return text, _data(alarm, slots, now)


def _ignored(range_size: int, received: int, previous: AlarmState) -> str:
    return (
        f"Missing data is ignored: {received} of the last {range_size} datapoints "
        f"{was_were(received)} received, too few to decide; the alarm stays in "
        f"{previous.value.value}."
    )


def _prefix(alarm: MetricAlarm) -> str:
    return "Thresholds Crossed" if alarm.operator.uses_band else "Threshold Crossed"


def _listing(slots: Sequence[Slot]) -> str:
    return "[" + ", ".join(
        f"{java_double(s.value or 0.0)} ({datapoint_time(s.timestamp)})" for s in slots
    ) + "]"


def _numbers(values: Sequence[float]) -> str:
    return "[" + ", ".join(java_double(v) for v in values) + "]"


def _comparison(alarm: MetricAlarm, listed: Sequence[Slot], *, negated: bool) -> str:
    operator = alarm.operator
    no = "not " if negated else ""
    lowers = _numbers([s.band.lower for s in listed if s.band is not None])
    uppers = _numbers([s.band.upper for s in listed if s.band is not None])
    if operator is ComparisonOperator.ABOVE_BAND:
        return f"{no}greater than the upper thresholds {uppers}"
    if operator is ComparisonOperator.BELOW_BAND:
        return f"{no}less than the lower thresholds {lowers}"
    if operator is ComparisonOperator.OUTSIDE_BAND:
        return (f"{no}less than the lower thresholds {lowers} or {no}greater than the "
                f"upper thresholds {uppers}")
    phrase = {
        ComparisonOperator.GREATER_THAN_OR_EQUAL: "greater than or equal to",
        ComparisonOperator.GREATER_THAN: "greater than",
        ComparisonOperator.LESS_THAN: "less than",
        ComparisonOperator.LESS_THAN_OR_EQUAL: "less than or equal to",
    }[operator]
    return f"{no}{phrase} the threshold ({java_double(alarm.threshold or 0.0)})"


def _data(alarm: MetricAlarm, window: Sequence[Slot], now: int) -> dict[str, Any]:
    """Reason data: CloudWatch's StateReasonData for the evaluated datapoints."""
    real = [s for s in window if s.present]
    data: dict[str, Any] = {"version": "1.0", "queryDate": reason_time(now)}
    if real:
        data["startDate"] = reason_time(min(s.timestamp for s in window))
    if alarm.unit is not None:
        data["unit"] = alarm.unit
    if alarm.statistic is not None:
        data["statistic"] = alarm.statistic
    else:
        data["extendedStatistic"] = alarm.extended_statistic
    data["period"] = alarm.period
    oldest_first = sorted(real, key=lambda s: s.timestamp)
    data["recentDatapoints"] = [s.value for s in oldest_first]
    operator = alarm.operator
    if operator.uses_band:
        if operator is not ComparisonOperator.ABOVE_BAND:
            data["recentLowerThresholds"] = [s.band.lower for s in oldest_first if s.band]
        if operator is not ComparisonOperator.BELOW_BAND:
            data["recentUpperThresholds"] = [s.band.upper for s in oldest_first if s.band]
    else:
        data["threshold"] = alarm.threshold
    evaluated: list[dict[str, Any]] = []
    for slot in sorted(window, key=lambda s: -s.timestamp):
        item: dict[str, Any] = {"timestamp": reason_time(slot.timestamp)}
        if slot.present:
            if slot.sample_count is not None:
                item["sampleCount"] = slot.sample_count
            item["value"] = slot.value
            if slot.band is not None:
                if operator is ComparisonOperator.ABOVE_BAND:
                    item["threshold"] = slot.band.upper
                elif operator is ComparisonOperator.BELOW_BAND:
                    item["threshold"] = slot.band.lower
                else:
                    item["lowerThreshold"] = slot.band.lower
                    item["upperThreshold"] = slot.band.upper
        evaluated.append(item)
    data["evaluatedDatapoints"] = evaluated
    return data
