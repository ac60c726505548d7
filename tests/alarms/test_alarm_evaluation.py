"""Metric alarm evaluation: windows, M of N, reasons and reason data, history records."""

from __future__ import annotations

import orjson
import pytest
from alarm_builders import BAD, GOOD, NOW, alarm, pattern, state

from pipetrail.alarms.anomaly import Band
from pipetrail.alarms.evaluate import evaluate, evaluation_window, slot_starts
from pipetrail.alarms.reason import composite_time, datapoint_time, java_double
from pipetrail.alarms.state import AlarmState, StateValue
from pipetrail.metrics.statistics import Datapoint, by_timestamp, get_statistics
from pipetrail.model.clock import parse_time
from pipetrail.model.errors import ValidationError
from pipetrail.model.metrics import MetricDatum

MINUTE = 60_000


def test_the_window_ends_on_the_minute_and_spans_n_plus_two_periods() -> None:
    definition = alarm(period=300, evaluation_periods=3)
    start, end = evaluation_window(definition, NOW)
    assert end == parse_time("2026-11-25T12:00:00Z")
    assert start == end - 5 * 5 * MINUTE
    starts = slot_starts(definition, NOW)
    assert starts[0] == end - 5 * MINUTE and starts[-1] == start and len(starts) == 5
    # a five-minute alarm slides minute by minute
    later = slot_starts(definition, NOW + MINUTE)
    assert later[0] - starts[0] == MINUTE


def test_high_resolution_window_moves_every_ten_seconds() -> None:
    definition = alarm(period=10, evaluation_periods=2, datapoints_to_alarm=2)
    start, end = evaluation_window(definition, NOW + 9_999)
    assert end == NOW + 0 and start == NOW - 40_000
    assert evaluation_window(definition, NOW + 10_000)[1] == NOW + 10_000
    with pytest.raises(ValidationError, match="cannot be shorter"):
        evaluation_window(definition, NOW, range_periods=1)


def test_m_out_of_n_need_not_be_consecutive() -> None:
    definition = alarm(datapoints_to_alarm=2)
    result = evaluate(definition, pattern(definition, "0 0 X 0 X"), state(StateValue.OK), NOW)
    assert result.value is StateValue.ALARM
    result = evaluate(definition, pattern(definition, "X X 0 0 X"), state(StateValue.OK), NOW)
    assert result.value is StateValue.OK  # the two older X are outside the last three


def test_older_real_points_in_the_range_stand_in_for_missing_recent_ones() -> None:
    definition = alarm(treat_missing_data="notBreaching")
    result = evaluate(definition, pattern(definition, "X X - X -"), state(StateValue.OK), NOW)
    assert result.value is StateValue.ALARM
    assert "treated as" not in result.reason


def test_alarm_reason_and_reason_data_follow_cloudwatch() -> None:
    definition = alarm(datapoints_to_alarm=2)
    points = pattern(definition, "0 0 X 0 X")
    result = evaluate(definition, points, state(StateValue.OK), NOW)
    assert result.reason == (
        "Threshold Crossed: 2 out of the last 3 datapoints "
        "[10.0 (25/11/26 11:55:00), 10.0 (25/11/26 11:45:00)] were greater than the "
        "threshold (5.0) (minimum 2 datapoints for OK -> ALARM transition)."
    )
    assert result.reason_data == {
        "version": "1.0",
        "queryDate": "2026-11-25T12:00:30.000+0000",
        "startDate": "2026-11-25T11:45:00.000+0000",
        "statistic": "Average",
        "period": 300,
        "recentDatapoints": [BAD, GOOD, BAD],
        "threshold": 5.0,
        "evaluatedDatapoints": [
            {"timestamp": "2026-11-25T11:55:00.000+0000", "value": BAD},
            {"timestamp": "2026-11-25T11:50:00.000+0000", "value": GOOD},
            {"timestamp": "2026-11-25T11:45:00.000+0000", "value": BAD},
        ],
    }


def test_ok_reason_counts_the_datapoints_that_keep_it_ok() -> None:
    definition = alarm(datapoints_to_alarm=2)
    result = evaluate(definition, pattern(definition, "X X 0 X 0"), state(StateValue.ALARM), NOW)
    assert result.value is StateValue.OK
    # ALARM -> OK needs N - M + 1 = 2 datapoints that do not breach
    assert result.reason == (
        "Threshold Crossed: 2 out of the last 3 datapoints "
        "[1.0 (25/11/26 11:55:00), 1.0 (25/11/26 11:45:00)] were not greater than the "
        "threshold (5.0) (minimum 2 datapoints for ALARM -> OK transition)."
    )


@pytest.mark.parametrize(
    ("treatment", "points", "m", "expected"),
    [
        ("breaching", "- - - - -", 3,
         "Threshold Crossed: no datapoints were received for 3 periods and 3 missing "
         "datapoints were treated as [Breaching]."),
        ("notBreaching", "- - - - -", 3,
         "Threshold Crossed: no datapoints were received for 3 periods and 3 missing "
         "datapoints were treated as [NonBreaching]."),
        ("breaching", "- - - - 0", 2,
         "Threshold Crossed: 1 datapoint was received for 3 periods and 2 missing "
         "datapoints were treated as [Breaching]."),
        ("breaching", "0 - X - -", 2,
         "Threshold Crossed: 1 out of the last 3 datapoints [10.0 (25/11/26 11:45:00)] was "
         "greater than the threshold (5.0) and 1 missing datapoint was treated as "
         "[Breaching] (minimum 2 datapoints for OK -> ALARM transition)."),
        ("missing", "- - - - -", 3, "Insufficient Data: 5 datapoints were unknown."),
    ],
)
def test_missing_data_reasons(treatment: str, points: str, m: int, expected: str) -> None:
    definition = alarm(treat_missing_data=treatment, datapoints_to_alarm=m)
    result = evaluate(definition, pattern(definition, points), state(StateValue.OK), NOW)
    assert result.reason == expected


def test_filled_periods_are_the_newest_missing_ones() -> None:
    definition = alarm(treat_missing_data="breaching", datapoints_to_alarm=2)
    result = evaluate(definition, pattern(definition, "0 - X - -"), state(StateValue.OK), NOW)
    assert result.reason_data is not None
    assert result.reason_data["evaluatedDatapoints"] == [
        {"timestamp": "2026-11-25T11:55:00.000+0000"},
        {"timestamp": "2026-11-25T11:45:00.000+0000", "value": BAD},
        {"timestamp": "2026-11-25T11:35:00.000+0000", "value": GOOD},
    ]


def test_insufficient_data_reason_data_lists_the_whole_range() -> None:
    definition = alarm()
    result = evaluate(definition, {}, state(StateValue.OK), NOW)
    assert result.reason_data is not None
    assert result.reason_data["recentDatapoints"] == []
    assert "startDate" not in result.reason_data
    assert len(result.reason_data["evaluatedDatapoints"]) == 5


def test_ignore_keeps_the_state_and_says_why() -> None:
    definition = alarm(treat_missing_data="ignore")
    before = state(StateValue.ALARM)
    result = evaluate(definition, {}, before, NOW)
    assert result.state is before and result.change is None
    assert result.reason.startswith("Missing data is ignored")
    assert "stays in ALARM" in result.reason


def test_state_change_is_a_history_item() -> None:
    definition = alarm(datapoints_to_alarm=1, evaluation_periods=1)
    before = AlarmState.initial(NOW - MINUTE)
    result = evaluate(definition, pattern(definition, "- - X"), before, NOW)
    assert result.change is not None
    item = result.change.to_json()
    assert item["AlarmName"] == "records-read-high"
    assert item["AlarmType"] == "MetricAlarm"
    assert item["HistoryItemType"] == "StateUpdate"
    assert item["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"
    assert item["Timestamp"] == "2026-11-25T12:00:30.000Z"
    history = orjson.loads(item["HistoryData"])
    assert history["oldState"] == {"stateValue": "INSUFFICIENT_DATA",
                                   "stateReason": "Unchecked: Initial alarm creation"}
    assert history["newState"]["stateValue"] == "ALARM"
    assert history["newState"]["stateReasonData"]["recentDatapoints"] == [BAD]
    assert result.state.timestamp == NOW and result.state.transitioned == NOW


def test_same_value_keeps_the_previous_state_record() -> None:
    definition = alarm()
    before = state(StateValue.OK, at=123)
    result = evaluate(definition, pattern(definition, "0 0 0 0 0"), before, NOW)
    assert result.value is StateValue.OK
    assert result.state is before and not result.changed


def test_datapoints_must_start_periods_of_the_range() -> None:
    definition = alarm()
    starts = slot_starts(definition, NOW)
    with pytest.raises(ValidationError, match="does not start a period"):
        evaluate(definition, {starts[0] + 1: 1.0}, state(StateValue.OK), NOW)
    # datapoints outside the range are not looked at
    outside = {starts[-1] - 300_000: BAD, starts[0] + 300_000 + 7: BAD}
    result = evaluate(definition, outside, state(StateValue.OK), NOW)
    assert result.value is StateValue.INSUFFICIENT_DATA


def test_statistic_values_come_from_datapoints() -> None:
    definition = alarm(statistic=None, extended_statistic="p90", evaluation_periods=1,
                       datapoints_to_alarm=1)
    start = slot_starts(definition, NOW)[0]
    point = Datapoint(start, 20, "Count", {"p90": 9.0, "Average": 1.0})
    result = evaluate(definition, {start: point}, state(StateValue.OK), NOW)
    assert result.value is StateValue.ALARM
    assert result.reason_data is not None
    assert result.reason_data["extendedStatistic"] == "p90"
    assert result.reason_data["evaluatedDatapoints"][0]["sampleCount"] == 20.0
    # a datapoint without the alarm's statistic is a missing datapoint
    empty = Datapoint(start, 20, "Count", {"Average": 9.0})
    result = evaluate(definition, {start: empty}, state(StateValue.OK), NOW)
    assert result.value is StateValue.INSUFFICIENT_DATA


def test_low_sample_percentiles_can_be_ignored() -> None:
    definition = alarm(statistic=None, extended_statistic="p99", evaluation_periods=1,
                       datapoints_to_alarm=1, evaluate_low_sample_count_percentile="ignore")
    start = slot_starts(definition, NOW)[0]
    few = {start: Datapoint(start, 999, "None", {"p99": 9.0})}  # p99 needs 1000 samples
    before = state(StateValue.OK)
    result = evaluate(definition, few, before, NOW)
    assert result.state is before
    assert "fewer than the 1000 that p99 needs" in result.reason
    enough = {start: Datapoint(start, 1000, "None", {"p99": 9.0})}
    assert evaluate(definition, enough, before, NOW).value is StateValue.ALARM
    definition.evaluate_low_sample_count_percentile = "evaluate"
    assert evaluate(definition, few, before, NOW).value is StateValue.ALARM


def test_low_percentiles_need_ten_over_p_samples() -> None:
    definition = alarm(statistic=None, extended_statistic="p10", evaluation_periods=1,
                       datapoints_to_alarm=1, evaluate_low_sample_count_percentile="ignore")
    start = slot_starts(definition, NOW)[0]
    before = state(StateValue.OK)
    few = {start: Datapoint(start, 99, "None", {"p10": 9.0})}
    assert evaluate(definition, few, before, NOW).state is before
    enough = {start: Datapoint(start, 100, "None", {"p10": 9.0})}
    assert evaluate(definition, enough, before, NOW).value is StateValue.ALARM


def test_band_operators_compare_with_the_band() -> None:
    definition = alarm(comparison_operator="LessThanLowerOrGreaterThanUpperThreshold",
                       threshold=None, evaluation_periods=2, datapoints_to_alarm=2)
    starts = slot_starts(definition, NOW)
    bands = {ts: Band(2.0, 4.0) for ts in starts}
    points = {starts[0]: 4.5, starts[1]: 1.5}
    result = evaluate(definition, points, state(StateValue.OK), NOW, bands=bands)
    assert result.value is StateValue.ALARM
    assert result.reason == (
        "Thresholds Crossed: 2 out of the last 2 datapoints [4.5 (25/11/26 11:55:00), "
        "1.5 (25/11/26 11:50:00)] were less than the lower thresholds [2.0, 2.0] or greater "
        "than the upper thresholds [4.0, 4.0] (minimum 2 datapoints for OK -> ALARM "
        "transition)."
    )
    assert result.reason_data is not None
    assert result.reason_data["recentLowerThresholds"] == [2.0, 2.0]
    assert result.reason_data["recentUpperThresholds"] == [4.0, 4.0]
    assert "threshold" not in result.reason_data
    inside = {starts[0]: 3.0, starts[1]: 3.5}
    ok = evaluate(definition, inside, result.state, NOW, bands=bands)
    assert ok.value is StateValue.OK
    assert "were not less than the lower thresholds [2.0, 2.0] or not greater" in ok.reason


def test_one_sided_band_reason() -> None:
    definition = alarm(comparison_operator="GreaterThanUpperThreshold", threshold=None,
                       evaluation_periods=1, datapoints_to_alarm=1)
    start = slot_starts(definition, NOW)[0]
    result = evaluate(definition, {start: 239.0}, state(StateValue.OK), NOW,
                      bands={start: Band(10.0, 225.71426732099445)})
    assert result.reason == (
        "Thresholds Crossed: 1 out of the last 1 datapoints [239.0 (25/11/26 11:55:00)] was "
        "greater than the upper thresholds [225.71426732099445] (minimum 1 datapoint for "
        "OK -> ALARM transition)."
    )
    assert result.reason_data is not None
    assert result.reason_data["evaluatedDatapoints"][0]["threshold"] == 225.71426732099445


def test_a_period_without_a_band_counts_as_missing() -> None:
    definition = alarm(comparison_operator="GreaterThanUpperThreshold", threshold=None,
                       evaluation_periods=1, datapoints_to_alarm=1)
    start = slot_starts(definition, NOW)[0]
    result = evaluate(definition, {start: 1e9}, state(StateValue.OK), NOW, bands={})
    assert result.value is StateValue.INSUFFICIENT_DATA
    with pytest.raises(ValidationError, match="needs the anomaly bands"):
        evaluate(definition, {start: 1e9}, state(StateValue.OK), NOW)


def test_bad_datapoint_values_are_refused() -> None:
    definition = alarm()
    start = slot_starts(definition, NOW)[0]
    with pytest.raises(ValidationError, match="not finite"):
        evaluate(definition, {start: float("inf")}, state(StateValue.OK), NOW)
    with pytest.raises(ValidationError, match="number or a Datapoint"):
        evaluate(definition, {start: "7"}, state(StateValue.OK), NOW)  # type: ignore[dict-item]


def test_from_datums_to_a_state_change() -> None:
    """Datums -> per-period statistics over the evaluation window -> evaluation."""
    definition = alarm(period=60, evaluation_periods=3, datapoints_to_alarm=2,
                       statistic="Maximum", threshold=100.0, unit="Count")
    start, end = evaluation_window(definition, NOW)
    datums = [
        MetricDatum("Pipetrail/Jobs", "glue.driver.aggregate.recordsRead", ts, value, "Count")
        for ts, value in [
            (end - 1 * MINUTE + 5_000, 150.0), (end - 1 * MINUTE + 9_000, 20.0),
            (end - 2 * MINUTE + 1_000, 40.0),
            (end - 3 * MINUTE + 59_999, 101.0),
            (end, 999.0),  # the period in progress is not evaluated
        ]
    ]
    points = by_timestamp(get_statistics(datums, start=start, end=end, period=60,
                                         statistics=[definition.stat], unit="Count"))
    result = evaluate(definition, points, definition.current_state(NOW), NOW)
    assert result.value is StateValue.ALARM
    assert result.reason.startswith("Threshold Crossed: 2 out of the last 3 datapoints [150.0")
    assert result.change is not None
    assert result.change.old.value is StateValue.INSUFFICIENT_DATA


@pytest.mark.parametrize(
    ("number", "text"),
    [(50.0, "50.0"), (3.4666088898518357, "3.4666088898518357"), (0.001, "0.001"),
     (1e-5, "1.0E-5"), (2.5e7, "2.5E7"), (1234567.0, "1234567.0"),
     (12345678.0, "1.2345678E7"), (-0.0, "-0.0"), (0.0, "0.0"), (-1.5e-10, "-1.5E-10"),
     (float("inf"), "Infinity")],
)
def test_numbers_read_as_in_cloudwatch(number: float, text: str) -> None:
    assert java_double(number) == text


def test_time_texts() -> None:
    ms = parse_time("2020-07-17T10:05:10Z")
    assert datapoint_time(ms) == "17/07/20 10:05:10"
    assert composite_time(ms) == "Friday 17 July, 2020 10:05:10 UTC"
