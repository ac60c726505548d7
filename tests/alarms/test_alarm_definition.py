"""Metric alarm definitions: validation as PutMetricAlarm, CloudWatch JSON shape, operators."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from alarm_builders import alarm

from pipetrail.alarms.anomaly import Band
from pipetrail.alarms.definition import (
    ComparisonOperator,
    MetricAlarm,
    TreatMissingData,
    parse_band_expression,
)
from pipetrail.alarms.state import AlarmState, StateValue
from pipetrail.model.clock import parse_time
from pipetrail.model.errors import ValidationError

T = parse_time("2026-11-25T12:00:00Z")


def test_defaults_are_normalised() -> None:
    definition = alarm(datapoints_to_alarm=None, treat_missing_data="notBreaching", threshold=5)
    assert definition.required_breaches == 3
    assert definition.comparison_operator is ComparisonOperator.GREATER_THAN
    assert definition.treat_missing_data is TreatMissingData.NOT_BREACHING
    assert definition.threshold == 5.0 and isinstance(definition.threshold, float)


def test_json_uses_cloudwatch_field_names() -> None:
    definition = alarm(
        dimensions={"JobName": "nightly", "Env": "prod"},
        unit="Count",
        description="too many records",
        alarm_actions=["webhook:oncall"],
        state=AlarmState(StateValue.ALARM, "Threshold Crossed: ...", {"version": "1.0"}, T, T),
        configuration_updated=T,
    )
    data = definition.to_json(workspace="ws1")
    assert data == {
        "AlarmName": "records-read-high",
        "AlarmArn": "arn:pipetrail:alarms:ws1:alarm/records-read-high",
        "AlarmDescription": "too many records",
        "AlarmConfigurationUpdatedTimestamp": "2026-11-25T12:00:00.000Z",
        "ActionsEnabled": True,
        "OKActions": [],
        "AlarmActions": ["webhook:oncall"],
        "InsufficientDataActions": [],
        "StateValue": "ALARM",
        "StateReason": "Threshold Crossed: ...",
        "StateReasonData": '{"version":"1.0"}',
        "StateUpdatedTimestamp": "2026-11-25T12:00:00.000Z",
        "StateTransitionedTimestamp": "2026-11-25T12:00:00.000Z",
        "MetricName": "glue.driver.aggregate.recordsRead",
        "Namespace": "Pipetrail/Jobs",
        "Statistic": "Average",
        "Dimensions": [{"Name": "Env", "Value": "prod"}, {"Name": "JobName", "Value": "nightly"}],
        "Period": 300,
        "Unit": "Count",
        "EvaluationPeriods": 3,
        "DatapointsToAlarm": 3,
        "Threshold": 5.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "TreatMissingData": "missing",
    }
    assert MetricAlarm.from_json(orjson.loads(orjson.dumps(data))) == definition


def test_band_alarm_json_has_the_band_expression() -> None:
    definition = alarm(
        comparison_operator="LessThanLowerOrGreaterThanUpperThreshold",
        threshold=None, band_width=3, extended_statistic="p90", statistic=None,
    )
    data = definition.to_json()
    assert "Threshold" not in data and "MetricName" not in data
    assert data["ThresholdMetricId"] == "ad1"
    assert data["Metrics"][1]["Expression"] == "ANOMALY_DETECTION_BAND(m1, 3)"
    assert data["Metrics"][0]["MetricStat"] == {
        "Metric": {"Namespace": "Pipetrail/Jobs",
                   "MetricName": "glue.driver.aggregate.recordsRead", "Dimensions": []},
        "Period": 300,
        "Stat": "p90",
    }
    assert MetricAlarm.from_json(data) == definition


def test_band_width_defaults_to_two() -> None:
    definition = alarm(comparison_operator="GreaterThanUpperThreshold", threshold=None)
    assert definition.band_width == 2.0
    assert parse_band_expression("ANOMALY_DETECTION_BAND(m1)") == ("m1", 2.0)
    assert parse_band_expression(" ANOMALY_DETECTION_BAND( m7 , 1.5 ) ") == ("m7", 1.5)
    with pytest.raises(ValidationError, match="ANOMALY_DETECTION_BAND"):
        parse_band_expression("BAND(m1, 2)")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": ""}, "AlarmName is required"),
        ({"name": "x" * 256}, "at most 255"),
        ({"name": "bad\nname"}, "control character at position 3"),
        ({"description": "d" * 1025}, "AlarmDescription"),
        ({"namespace": ""}, "Namespace"),
        ({"namespace": ":x"}, "must not start with ':'"),
        ({"metric_name": ""}, "MetricName"),
        ({"dimensions": {f"d{i}": "v" for i in range(31)}}, "at most 30"),
        ({"dimensions": {"JobName": ""}}, "value of 'JobName'"),
        ({"statistic": None}, "exactly one of Statistic and ExtendedStatistic"),
        ({"extended_statistic": "p99"}, "exactly one of Statistic and ExtendedStatistic"),
        ({"statistic": "p99"}, "use ExtendedStatistic"),
        ({"statistic": None, "extended_statistic": "Average"}, "give it as Statistic"),
        ({"statistic": None, "extended_statistic": "p999"}, "outside 0..100"),
        ({"period": 45}, "Period 45 s is not allowed"),
        ({"period": 7}, "not allowed"),  # 1 and 5 s are allowed (sub-10 s metrics); 7 is not
        ({"evaluation_periods": 0}, "EvaluationPeriods"),
        ({"datapoints_to_alarm": 4}, "DatapointsToAlarm (4) cannot be more"),
        ({"datapoints_to_alarm": 0}, "DatapointsToAlarm must be"),
        ({"period": 60, "evaluation_periods": 1441, "datapoints_to_alarm": 1}, "one day"),
        ({"period": 300, "evaluation_periods": 289, "datapoints_to_alarm": 1}, "one day"),
        ({"period": 3600, "evaluation_periods": 169, "datapoints_to_alarm": 1}, "seven days"),
        ({"comparison_operator": "Bigger"}, "ComparisonOperator: 'Bigger' is not one of"),
        ({"threshold": None}, "needs a numeric Threshold"),
        ({"threshold": float("nan")}, "must be finite"),
        ({"band_width": 2.0}, "band width needs one of the band operators"),
        ({"comparison_operator": "GreaterThanUpperThreshold"}, "not a Threshold"),
        ({"comparison_operator": "GreaterThanUpperThreshold", "threshold": None,
          "band_width": 0}, "band width must be a positive number"),
        ({"treat_missing_data": "Missing"}, "TreatMissingData: 'Missing' is not one of"),
        ({"evaluate_low_sample_count_percentile": "ignore"}, "only to percentile"),
        ({"statistic": None, "extended_statistic": "p99",
          "evaluate_low_sample_count_percentile": "skip"}, "EvaluateLowSampleCountPercentile"),
        ({"unit": "Parsecs"}, "Unit: unknown unit"),
        ({"alarm_actions": ["a"] * 6}, "AlarmActions: at most 5"),
        ({"ok_actions": [""]}, "OKActions: each action"),
        ({"actions_enabled": "yes"}, "ActionsEnabled"),
    ],
)
def test_validation(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        alarm(**overrides)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("period", "n"), [(10, 8640), (60, 1440), (300, 288), (3600, 168), (86400, 7), (20, 4320)]
)
def test_longest_allowed_evaluation_spans(period: int, n: int) -> None:
    definition = alarm(period=period, evaluation_periods=n, datapoints_to_alarm=1)
    assert definition.period * definition.evaluation_periods in (86_400, 604_800)


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("GreaterThanOrEqualToThreshold", 5.0, True),
        ("GreaterThanOrEqualToThreshold", 4.9, False),
        ("GreaterThanThreshold", 5.0, False),
        ("GreaterThanThreshold", 5.1, True),
        ("LessThanThreshold", 5.0, False),
        ("LessThanThreshold", 4.9, True),
        ("LessThanOrEqualToThreshold", 5.0, True),
        ("LessThanOrEqualToThreshold", 5.1, False),
    ],
)
def test_static_operators(operator: str, value: float, expected: bool) -> None:
    assert ComparisonOperator(operator).breaches(value, 5.0, None) is expected


@pytest.mark.parametrize(
    ("operator", "value", "expected"),
    [
        ("LessThanLowerOrGreaterThanUpperThreshold", 0.9, True),
        ("LessThanLowerOrGreaterThanUpperThreshold", 1.0, False),
        ("LessThanLowerOrGreaterThanUpperThreshold", 2.0, False),
        ("LessThanLowerOrGreaterThanUpperThreshold", 2.1, True),
        ("LessThanLowerThreshold", 0.9, True),
        ("LessThanLowerThreshold", 2.1, False),
        ("GreaterThanUpperThreshold", 2.1, True),
        ("GreaterThanUpperThreshold", 0.9, False),
    ],
)
def test_band_operators(operator: str, value: float, expected: bool) -> None:
    assert ComparisonOperator(operator).breaches(value, None, Band(1.0, 2.0)) is expected


def test_operators_refuse_the_wrong_reference() -> None:
    with pytest.raises(ValidationError, match="needs an anomaly-detection band"):
        ComparisonOperator.ABOVE_BAND.breaches(1.0, 5.0, None)
    with pytest.raises(ValidationError, match="needs a threshold"):
        ComparisonOperator.GREATER_THAN.breaches(1.0, None, Band(0, 1))


def test_actions_per_state() -> None:
    definition = alarm(alarm_actions=["a"], ok_actions=["o"], insufficient_data_actions=["i"])
    assert definition.actions_for(StateValue.ALARM) == ["a"]
    assert definition.actions_for(StateValue.OK) == ["o"]
    assert definition.actions_for(StateValue.INSUFFICIENT_DATA) == ["i"]
    definition.actions_enabled = False
    assert definition.actions_for(StateValue.ALARM) == []


def test_new_alarm_state_is_unchecked() -> None:
    initial = alarm().current_state(T)
    assert initial.value is StateValue.INSUFFICIENT_DATA
    assert initial.reason == "Unchecked: Initial alarm creation"


def test_from_json_refuses_bad_input() -> None:
    with pytest.raises(ValidationError, match="JSON object"):
        MetricAlarm.from_json([])  # type: ignore[arg-type]
    data = alarm().to_json()
    data["StateValue"] = "BROKEN"
    with pytest.raises(ValidationError, match="unknown alarm state"):
        MetricAlarm.from_json(data)
    data = alarm().to_json()
    data["Metrics"] = [{"Id": "m1"}]
    data["ThresholdMetricId"] = "zz"
    with pytest.raises(ValidationError, match="ThresholdMetricId"):
        MetricAlarm.from_json(data)
    data = alarm().to_json()
    data["ExtendedStatistic"] = "p99"  # besides its Statistic
    with pytest.raises(ValidationError, match="exactly one of Statistic and ExtendedStatistic"):
        MetricAlarm.from_json(data)


@pytest.mark.parametrize("period", [1, 5, 10, 20, 30, 60, 120])
def test_high_resolution_periods_down_to_one_second(period: int) -> None:
    alarm = MetricAlarm(name="fast", namespace="N", metric_name="m", period=period,
                        evaluation_periods=1, comparison_operator="GreaterThanThreshold",
                        threshold=1, statistic="Maximum")
    alarm.validate()
