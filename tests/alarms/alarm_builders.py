"""Shared builders for the alarm tests: alarms and datapoint patterns like ``0 - X - X``."""

from __future__ import annotations

from typing import Any

from pipetrail.alarms.definition import MetricAlarm
from pipetrail.alarms.evaluate import slot_starts
from pipetrail.alarms.state import AlarmState, StateValue
from pipetrail.model.clock import parse_time

# 30 s past a minute: the evaluation range ends at 12:00:00
NOW = parse_time("2026-11-25T12:00:30Z")
THRESHOLD = 5.0
GOOD = 1.0  # "0" in the AWS tables: not breaching
BAD = 10.0  # "X": breaching


def alarm(**overrides: Any) -> MetricAlarm:
    fields: dict[str, Any] = {
        "name": "records-read-high",
        "namespace": "Pipetrail/Jobs",
        "metric_name": "glue.driver.aggregate.recordsRead",
        "period": 300,
        "evaluation_periods": 3,
        "datapoints_to_alarm": 3,
        "comparison_operator": "GreaterThanThreshold",
        "threshold": THRESHOLD,
        "statistic": "Average",
    }
    fields.update(overrides)
    result = MetricAlarm(**fields)
    result.validate()
    return result


def pattern(definition: MetricAlarm, text: str, now: int = NOW) -> dict[int, float]:
    """Datapoints for a pattern written oldest first, newest right: 0 good, X bad, - missing."""
    marks = text.split()
    starts = list(reversed(slot_starts(definition, now, len(marks))))
    points: dict[int, float] = {}
    for start, mark in zip(starts, marks, strict=True):
        if mark == "0":
            points[start] = GOOD
        elif mark == "X":
            points[start] = BAD
        elif mark != "-":
            raise ValueError(f"unknown mark {mark!r}")
    return points


def state(value: StateValue, at: int = 0) -> AlarmState:
    return AlarmState(value, f"was {value.value}", None, at, at)
