"""A metric alarm's definition, validated as CloudWatch's PutMetricAlarm validates it.

``to_json`` uses CloudWatch's DescribeAlarms field names, so that people and tools that
know CloudWatch can read it; ``from_json`` reads the same shape back. An alarm compared
with an anomaly-detection band is written the way CloudWatch writes one: a ``Metrics``
list holding the metric (``m1``) and the ``ANOMALY_DETECTION_BAND(m1, width)`` expression
(``ad1``), with ``ThresholdMetricId`` naming the band instead of a ``Threshold``.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import orjson

from pipetrail.alarms.anomaly import Band
from pipetrail.alarms.common import actions_for, head_json
from pipetrail.alarms.state import AlarmState, StateValue, parse_state_value
from pipetrail.metrics.statistic import STANDARD_STATISTICS, Statistic, parse_statistic
from pipetrail.metrics.statistics import validate_period
from pipetrail.model.clock import parse_time
from pipetrail.model.errors import ValidationError
from pipetrail.model.metrics import MAX_DIMENSIONS, UNITS

MAX_NAME = 255
MAX_DESCRIPTION = 1024
MAX_DIMENSION_NAME = 255
MAX_DIMENSION_VALUE = 1024
MAX_ACTIONS = 5
MAX_ACTION = 1024
MAX_SPAN_SHORT_PERIOD = 86_400  # period x evaluation periods, when the period is < 1 hour
MAX_SPAN = 604_800  # period x evaluation periods, when the period is >= 1 hour
DEFAULT_BAND_WIDTH = 2.0
# CloudWatch allows 10, 20 and 30 s; Pipetrail adds 1 and 5 s (metrics arrive every second).
ALARM_HIGH_RESOLUTION_PERIODS = (1, 5, 10, 20, 30)
METRIC_ID = "m1"
BAND_ID = "ad1"


class ComparisonOperator(enum.StrEnum):
    """How the statistic (left operand) is compared with the threshold or band."""

    GREATER_THAN_OR_EQUAL = "GreaterThanOrEqualToThreshold"
    GREATER_THAN = "GreaterThanThreshold"
    LESS_THAN = "LessThanThreshold"
    LESS_THAN_OR_EQUAL = "LessThanOrEqualToThreshold"
    OUTSIDE_BAND = "LessThanLowerOrGreaterThanUpperThreshold"
    BELOW_BAND = "LessThanLowerThreshold"
    ABOVE_BAND = "GreaterThanUpperThreshold"

    @property
    def uses_band(self) -> bool:
        return self in _BAND_OPERATORS

    def breaches(self, value: float, threshold: float | None, band: Band | None) -> bool:
        """Whether ``value`` breaches: compared with ``threshold``, or with ``band``."""
        if self.uses_band:
            if band is None:
                raise ValidationError(f"{self.value} needs an anomaly-detection band")
            if self is ComparisonOperator.ABOVE_BAND:
                return value > band.upper
            if self is ComparisonOperator.BELOW_BAND:
                return value < band.lower
            return value < band.lower or value > band.upper
        if threshold is None:
            raise ValidationError(f"{self.value} needs a threshold")
        if self is ComparisonOperator.GREATER_THAN_OR_EQUAL:
            return value >= threshold
        if self is ComparisonOperator.GREATER_THAN:
            return value > threshold
        if self is ComparisonOperator.LESS_THAN:
            return value < threshold
        return value <= threshold


_BAND_OPERATORS = frozenset({
    ComparisonOperator.OUTSIDE_BAND, ComparisonOperator.BELOW_BAND, ComparisonOperator.ABOVE_BAND,
})


class TreatMissingData(enum.StrEnum):
    MISSING = "missing"
    IGNORE = "ignore"
    BREACHING = "breaching"
    NOT_BREACHING = "notBreaching"


class LowSampleCount(enum.StrEnum):
    """EvaluateLowSampleCountPercentile: what a percentile alarm does with few samples."""

    EVALUATE = "evaluate"
    IGNORE = "ignore"


_E = TypeVar("_E", bound=enum.StrEnum)


def _enum_value(kind: type[_E], text: object, field_name: str) -> _E:
    try:
        if not isinstance(text, str):
            raise ValueError(text)
        return kind(text)
    except ValueError:
        allowed = ", ".join(member.value for member in kind)
        raise ValidationError(f"{field_name}: {text!r} is not one of {allowed}") from None


def check_alarm_name(name: object, field_name: str = "AlarmName") -> str:
    """1..255 characters, no control characters."""
    if not isinstance(name, str) or not name:
        raise ValidationError(f"{field_name} is required")
    if len(name) > MAX_NAME:
        raise ValidationError(f"{field_name} is {len(name)} characters long; at most {MAX_NAME}")
    for index, char in enumerate(name):
        if ord(char) < 32 or ord(char) == 127:
            raise ValidationError(
                f"{field_name} has a control character at position {index}: {char!r}"
            )
    return name


def check_actions(actions: object, field_name: str) -> list[str]:
    if not isinstance(actions, list | tuple):
        raise ValidationError(f"{field_name} must be a list of actions")
    if len(actions) > MAX_ACTIONS:
        raise ValidationError(f"{field_name}: at most {MAX_ACTIONS} actions, got {len(actions)}")
    for action in actions:
        if not isinstance(action, str) or not 1 <= len(action) <= MAX_ACTION:
            raise ValidationError(
                f"{field_name}: each action is a text of 1..{MAX_ACTION} characters, "
                f"got {action!r}"
            )
    return list(actions)


def band_expression(width: float) -> str:
    return f"ANOMALY_DETECTION_BAND({METRIC_ID}, {_number_text(width)})"


_BAND_RE = re.compile(
    r"\s*ANOMALY_DETECTION_BAND\(\s*([A-Za-z][A-Za-z0-9_]*)\s*"
    r"(?:,\s*([0-9]+(?:\.[0-9]+)?)\s*)?\)\s*"
)


def parse_band_expression(text: str) -> tuple[str, float]:
    """``ANOMALY_DETECTION_BAND(m1, 2)`` -> ("m1", 2.0); the width defaults to 2."""
    match = _BAND_RE.fullmatch(text)
    if not match:
        raise ValidationError(
            f"expression {text!r}: expected ANOMALY_DETECTION_BAND(metric-id, width)"
        )
    width = float(match.group(2)) if match.group(2) else DEFAULT_BAND_WIDTH
    return match.group(1), width


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


@dataclass
class MetricAlarm:
    """A metric alarm: which metric, which statistic, and when it is breaching.

    Times are epoch milliseconds; ``period`` is in seconds. ``datapoints_to_alarm``
    defaults to ``evaluation_periods``. Static operators need ``threshold``; the three
    band operators need ``band_width`` (the ``2`` in ``ANOMALY_DETECTION_BAND(m1, 2)``).
    """

    name: str
    namespace: str
    metric_name: str
    period: int
    evaluation_periods: int
    comparison_operator: ComparisonOperator | str
    threshold: float | None = None
    statistic: str | None = None
    extended_statistic: str | None = None
    dimensions: dict[str, str] = field(default_factory=dict)
    datapoints_to_alarm: int | None = None
    treat_missing_data: TreatMissingData | str = TreatMissingData.MISSING
    evaluate_low_sample_count_percentile: LowSampleCount | str | None = None
    band_width: float | None = None
    unit: str | None = None
    description: str = ""
    actions_enabled: bool = True
    alarm_actions: list[str] = field(default_factory=list)
    ok_actions: list[str] = field(default_factory=list)
    insufficient_data_actions: list[str] = field(default_factory=list)
    state: AlarmState | None = None
    configuration_updated: int | None = None

    # -- validation ---------------------------------------------------------------------

    def validate(self) -> None:
        """Check every field as PutMetricAlarm does; normalise the enumerated ones."""
        check_alarm_name(self.name)
        if not isinstance(self.description, str) or len(self.description) > MAX_DESCRIPTION:
            raise ValidationError(f"AlarmDescription: at most {MAX_DESCRIPTION} characters")
        self._validate_metric()
        self._validate_statistic()
        validate_period(self.period, what="Period", high_resolution=ALARM_HIGH_RESOLUTION_PERIODS)
        self._validate_periods()
        self.comparison_operator = _enum_value(
            ComparisonOperator, self.comparison_operator, "ComparisonOperator"
        )
        self._validate_threshold()
        self.treat_missing_data = _enum_value(
            TreatMissingData, self.treat_missing_data, "TreatMissingData"
        )
        if self.unit is not None and self.unit not in UNITS:
            raise ValidationError(f"Unit: unknown unit {self.unit!r}")
        if not isinstance(self.actions_enabled, bool):
            raise ValidationError("ActionsEnabled must be true or false")
        self.alarm_actions = check_actions(self.alarm_actions, "AlarmActions")
        self.ok_actions = check_actions(self.ok_actions, "OKActions")
        self.insufficient_data_actions = check_actions(
            self.insufficient_data_actions, "InsufficientDataActions"
        )

    def _validate_metric(self) -> None:
        if not isinstance(self.namespace, str) or not 1 <= len(self.namespace) <= MAX_NAME:
            raise ValidationError(f"Namespace: 1..{MAX_NAME} characters required")
        if self.namespace.startswith(":"):
            raise ValidationError("Namespace must not start with ':'")
        if not isinstance(self.metric_name, str) or not 1 <= len(self.metric_name) <= MAX_NAME:
            raise ValidationError(f"MetricName: 1..{MAX_NAME} characters required")
        if not isinstance(self.dimensions, Mapping):
            raise ValidationError("Dimensions must be a mapping of name to value")
        if len(self.dimensions) > MAX_DIMENSIONS:
            raise ValidationError(
                f"Dimensions: at most {MAX_DIMENSIONS}, got {len(self.dimensions)}"
            )
        for key, value in self.dimensions.items():
            if not isinstance(key, str) or not 1 <= len(key) <= MAX_DIMENSION_NAME:
                raise ValidationError(
                    f"Dimensions: name {key!r} must have 1..{MAX_DIMENSION_NAME} characters"
                )
            if not isinstance(value, str) or not 1 <= len(value) <= MAX_DIMENSION_VALUE:
                raise ValidationError(
                    f"Dimensions: value of {key!r} must have 1..{MAX_DIMENSION_VALUE} characters"
                )

    def _validate_statistic(self) -> None:
        if (self.statistic is None) == (self.extended_statistic is None):
            raise ValidationError("give exactly one of Statistic and ExtendedStatistic")
        if self.statistic is not None:
            if self.statistic not in STANDARD_STATISTICS:
                raise ValidationError(
                    f"Statistic: {self.statistic!r} is not one of "
                    f"{', '.join(STANDARD_STATISTICS)} (use ExtendedStatistic for others)"
                )
        else:
            assert self.extended_statistic is not None
            parsed = parse_statistic(self.extended_statistic)
            if parsed.standard:
                raise ValidationError(
                    f"ExtendedStatistic: {self.extended_statistic!r} is a standard statistic; "
                    "give it as Statistic"
                )
        choice = self.evaluate_low_sample_count_percentile
        if choice is not None:
            self.evaluate_low_sample_count_percentile = _enum_value(
                LowSampleCount, choice, "EvaluateLowSampleCountPercentile"
            )
            if self.parsed_statistic.percentile is None:
                raise ValidationError(
                    "EvaluateLowSampleCountPercentile applies only to percentile statistics"
                )

    def _validate_periods(self) -> None:
        n = self.evaluation_periods
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValidationError(f"EvaluationPeriods must be a whole number >= 1, got {n!r}")
        m = self.datapoints_to_alarm
        if m is not None:
            if isinstance(m, bool) or not isinstance(m, int) or m < 1:
                raise ValidationError(f"DatapointsToAlarm must be a whole number >= 1, got {m!r}")
            if m > n:
                raise ValidationError(
                    f"DatapointsToAlarm ({m}) cannot be more than EvaluationPeriods ({n})"
                )
        span = self.period * n
        limit = MAX_SPAN_SHORT_PERIOD if self.period < 3600 else MAX_SPAN
        if span > limit:
            raise ValidationError(
                f"Period x EvaluationPeriods is {span} s; at most {limit} s "
                + ("(one day) when the period is under one hour" if limit == MAX_SPAN_SHORT_PERIOD
                   else "(seven days)")
            )

    def _validate_threshold(self) -> None:
        operator = ComparisonOperator(self.comparison_operator)
        if operator.uses_band:
            if self.threshold is not None:
                raise ValidationError(
                    f"{operator.value} compares with an anomaly-detection band: "
                    "give a band width, not a Threshold"
                )
            width = self.band_width
            if width is None:
                self.band_width = width = DEFAULT_BAND_WIDTH
            if isinstance(width, bool) or not isinstance(width, int | float) or not (
                math.isfinite(width) and width > 0
            ):
                raise ValidationError(f"the band width must be a positive number, got {width!r}")
            self.band_width = float(width)
        else:
            if self.band_width is not None:
                raise ValidationError(
                    f"{operator.value} compares with a Threshold; a band width needs one of "
                    "the band operators"
                )
            value = self.threshold
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValidationError(f"{operator.value} needs a numeric Threshold")
            if not math.isfinite(value):
                raise ValidationError(f"Threshold must be finite, got {value}")
            self.threshold = float(value)

    # -- reading ------------------------------------------------------------------------

    @property
    def stat(self) -> str:
        """The statistic name the alarm evaluates (Statistic or ExtendedStatistic)."""
        name = self.statistic if self.statistic is not None else self.extended_statistic
        if name is None:
            raise ValidationError("the alarm has no statistic")
        return name

    @property
    def parsed_statistic(self) -> Statistic:
        return parse_statistic(self.stat)

    @property
    def operator(self) -> ComparisonOperator:
        return ComparisonOperator(self.comparison_operator)

    @property
    def missing_data(self) -> TreatMissingData:
        return TreatMissingData(self.treat_missing_data)

    @property
    def required_breaches(self) -> int:
        """M: how many breaching datapoints put the alarm in ALARM."""
        return self.datapoints_to_alarm or self.evaluation_periods

    def current_state(self, now: int) -> AlarmState:
        return self.state if self.state is not None else AlarmState.initial(now)

    def actions_for(self, value: StateValue) -> list[str]:
        """The actions to run on a transition into ``value`` (none when actions are off)."""
        return actions_for(self, value)

    # -- JSON ---------------------------------------------------------------------------

    def to_json(self, workspace: str | None = None) -> dict[str, Any]:
        """The alarm in CloudWatch's DescribeAlarms shape (MetricAlarms item)."""
        data = head_json(self, workspace)
        dimensions = [{"Name": k, "Value": v} for k, v in sorted(self.dimensions.items())]
        if self.operator.uses_band:
            metric_stat: dict[str, Any] = {
                "Metric": {
                    "Namespace": self.namespace,
                    "MetricName": self.metric_name,
                    "Dimensions": dimensions,
                },
                "Period": self.period,
                "Stat": self.stat,
            }
            if self.unit is not None:
                metric_stat["Unit"] = self.unit
            data["Metrics"] = [
                {"Id": METRIC_ID, "MetricStat": metric_stat, "ReturnData": True},
                {
                    "Id": BAND_ID,
                    "Expression": band_expression(self.band_width or DEFAULT_BAND_WIDTH),
                    "Label": f"{self.metric_name} (expected)",
                    "ReturnData": True,
                },
            ]
        else:
            data.update({"MetricName": self.metric_name, "Namespace": self.namespace})
            if self.statistic is not None:
                data["Statistic"] = self.statistic
            else:
                data["ExtendedStatistic"] = self.extended_statistic
            data["Dimensions"] = dimensions
            data["Period"] = self.period
            if self.unit is not None:
                data["Unit"] = self.unit
        data["EvaluationPeriods"] = self.evaluation_periods
        data["DatapointsToAlarm"] = self.required_breaches
        if self.operator.uses_band:
            data["ThresholdMetricId"] = BAND_ID
        else:
            data["Threshold"] = self.threshold
        data["ComparisonOperator"] = self.operator.value
        data["TreatMissingData"] = self.missing_data.value
        if self.evaluate_low_sample_count_percentile is not None:
            data["EvaluateLowSampleCountPercentile"] = LowSampleCount(
                self.evaluate_low_sample_count_percentile
            ).value
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MetricAlarm:
        """Read the DescribeAlarms shape (as written by ``to_json``) and validate it."""
        if not isinstance(data, Mapping):
            raise ValidationError("an alarm must be a JSON object")
        fields: dict[str, Any] = {}
        metrics = data.get("Metrics")
        band_width: float | None = None
        if metrics:
            namespace, metric_name, dimensions, period, stat, unit, band_width = (
                _read_metrics(metrics, data.get("ThresholdMetricId"))
            )
        else:
            namespace = data.get("Namespace")
            metric_name = data.get("MetricName")
            dimensions = _read_dimensions(data.get("Dimensions", []))
            period = data.get("Period")
            if data.get("Statistic") is not None and data.get("ExtendedStatistic") is not None:
                raise ValidationError("give exactly one of Statistic and ExtendedStatistic")
            stat = data.get("Statistic") or data.get("ExtendedStatistic")
            unit = data.get("Unit")
        if stat in STANDARD_STATISTICS:
            fields["statistic"] = stat
        else:
            fields["extended_statistic"] = stat
        state = None
        if "StateValue" in data:
            reason_data = data.get("StateReasonData")
            if isinstance(reason_data, str):
                try:
                    reason_data = orjson.loads(reason_data)
                except orjson.JSONDecodeError:
                    raise ValidationError("StateReasonData is not valid JSON") from None
            updated = _read_time(data.get("StateUpdatedTimestamp"), "StateUpdatedTimestamp")
            transitioned = data.get("StateTransitionedTimestamp")
            state = AlarmState(
                parse_state_value(data["StateValue"]),
                str(data.get("StateReason", "")),
                reason_data,
                updated if updated is not None else 0,
                _read_time(transitioned, "StateTransitionedTimestamp"),
            )
        alarm = cls(
            name=data.get("AlarmName"),  # type: ignore[arg-type]
            namespace=namespace,
            metric_name=metric_name,
            period=period,
            evaluation_periods=data.get("EvaluationPeriods"),  # type: ignore[arg-type]
            comparison_operator=data.get("ComparisonOperator"),  # type: ignore[arg-type]
            threshold=data.get("Threshold"),
            dimensions=dimensions,
            datapoints_to_alarm=data.get("DatapointsToAlarm"),
            treat_missing_data=data.get("TreatMissingData", TreatMissingData.MISSING),
            evaluate_low_sample_count_percentile=data.get("EvaluateLowSampleCountPercentile"),
            band_width=band_width,
            unit=unit,
            description=data.get("AlarmDescription") or "",
            actions_enabled=data.get("ActionsEnabled", True),
            alarm_actions=data.get("AlarmActions", []),
            ok_actions=data.get("OKActions", []),
            insufficient_data_actions=data.get("InsufficientDataActions", []),
            state=state,
            configuration_updated=_read_time(
                data.get("AlarmConfigurationUpdatedTimestamp"), "AlarmConfigurationUpdatedTimestamp"
            ),
            **fields,
        )
        alarm.validate()
        return alarm


def _read_dimensions(items: object) -> dict[str, str]:
    if isinstance(items, Mapping):
        return {str(k): v for k, v in items.items()}
    if not isinstance(items, list):
        raise ValidationError("Dimensions must be a list of {Name, Value}")
    dimensions: dict[str, str] = {}
    for item in items:
        if not isinstance(item, Mapping) or "Name" not in item or "Value" not in item:
            raise ValidationError(f"Dimensions: {item!r} is not a {{Name, Value}} object")
        dimensions[item["Name"]] = item["Value"]
    return dimensions


def _read_metrics(
    metrics: object, threshold_id: object
) -> tuple[Any, Any, dict[str, str], Any, Any, Any, float]:
    if not isinstance(metrics, list):
        raise ValidationError("Metrics must be a list")
    by_id = {m.get("Id"): m for m in metrics if isinstance(m, Mapping)}
    band = by_id.get(threshold_id)
    if band is None or "Expression" not in band:
        raise ValidationError(
            "Metrics: ThresholdMetricId must name an ANOMALY_DETECTION_BAND expression"
        )
    metric_id, width = parse_band_expression(str(band["Expression"]))
    source = by_id.get(metric_id)
    if source is None or not isinstance(source.get("MetricStat"), Mapping):
        raise ValidationError(f"Metrics: no metric with Id {metric_id!r} for the band")
    stat = source["MetricStat"]
    metric = stat.get("Metric", {})
    if not isinstance(metric, Mapping):
        raise ValidationError("Metrics: MetricStat.Metric must be an object")
    return (
        metric.get("Namespace"),
        metric.get("MetricName"),
        _read_dimensions(metric.get("Dimensions", [])),
        stat.get("Period"),
        stat.get("Stat"),
        stat.get("Unit"),
        width,
    )


def _read_time(value: object, field_name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str):
        return parse_time(value)
    raise ValidationError(f"{field_name} must be a time, got {value!r}")
