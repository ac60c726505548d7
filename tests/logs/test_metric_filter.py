"""Metric filters: definitions, values, defaults, dimensions, per-minute sums."""

from __future__ import annotations

import pytest

from pipetrail.logs.metric_filter import MetricFilter, aggregate_by_minute, metric_data
from pipetrail.model.errors import ValidationError
from pipetrail.model.logs import LogEvent

T0 = 1_790_000_040_000  # a minute boundary


def events(*messages: str, step_ms: int = 1000, start: int = T0) -> list[LogEvent]:
    return [LogEvent(group="/g", stream="s", timestamp=start + i * step_ms, message=m)
            for i, m in enumerate(messages)]


def test_counting_matches_with_value_one() -> None:
    spec = MetricFilter("errors", "ERROR", "App", "Errors")
    data = metric_data(spec, events("ERROR a", "INFO b", "ERROR c"))
    assert [(d.value, d.timestamp, d.unit) for d in data] == [(1.0, T0, "None"),
                                                              (1.0, T0 + 2000, "None")]
    assert all(d.namespace == "App" and d.name == "Errors" and d.dimensions == {} for d in data)


def test_static_value_and_unit() -> None:
    spec = MetricFilter("f", "ERROR", "App", "Errors", value="2.5", unit="Count")
    assert [(d.value, d.unit) for d in metric_data(spec, events("ERROR"))] == [(2.5, "Count")]


def test_json_value_is_read_from_the_event() -> None:
    spec = MetricFilter("lat", "{ $.latency = * }", "App", "Latency", value="$.latency",
                        unit="Milliseconds")
    data = metric_data(spec, events('{"latency": 50, "requestType": "GET"}',
                                    '{"latency": "12.5"}', '{"latency": "slow"}',
                                    '{"other": 1}'))
    assert [d.value for d in data] == [50.0, 12.5]


def test_space_delimited_value_and_dimension() -> None:
    spec = MetricFilter("bytes", "[ip, user, ..., status, size]", "Web", "Bytes",
                        value="$size", dimensions={"Status": "$status"})
    data = metric_data(spec, events('1.1.1.1 - "GET /" 200 1534', '1.1.1.2 - "GET /x" 404 12',
                                    '1.1.1.3 - "GET /y" 200 -', "short"))
    assert [(d.value, d.dimensions) for d in data] == [(1534.0, {"Status": "200"}),
                                                       (12.0, {"Status": "404"})]


def test_json_dimension_keeps_number_text() -> None:
    spec = MetricFilter("f", "{ $.code = * }", "App", "Codes",
                        dimensions={"Code": "$.code", "Kind": "$.kind"})
    data = metric_data(spec, events('{"code": 7, "kind": "a"}', '{"code": 7}',
                                    '{"code": 1.50, "kind": "b"}'))
    assert [d.dimensions for d in data] == [{"Code": "7", "Kind": "a"},
                                            {"Code": "1.50", "Kind": "b"}]


def test_default_value_for_events_that_do_not_match() -> None:
    spec = MetricFilter("f", "ERROR", "App", "Errors", default_value=0.0)
    data = metric_data(spec, events("ERROR", "INFO", "INFO"))
    assert [d.value for d in data] == [1.0, 0.0, 0.0]


def test_no_default_value_means_no_data_without_matches() -> None:
    spec = MetricFilter("f", "ERROR", "App", "Errors")
    assert metric_data(spec, events("INFO", "DEBUG")) == []


def test_missing_selector_contributes_nothing() -> None:
    spec = MetricFilter("f", "[kind,value]", "App", "Missing", value="$missing")
    assert metric_data(spec, events("SPACE 17", "SPACE 31")) == []


def test_aggregate_by_minute_matches_the_documented_example() -> None:
    # Two records per minute, value 1, default 0: a minute with two matches reports 2,
    # a minute with no matches reports 0.
    spec = MetricFilter("f", "ERROR", "App", "Errors", default_value=0.0)
    batch = (events("ERROR x", "ERROR y", step_ms=10_000)
             + events("INFO x", "INFO y", step_ms=10_000, start=T0 + 60_000))
    totals = aggregate_by_minute(metric_data(spec, batch))
    assert [(d.timestamp, d.value) for d in totals] == [(T0, 2.0), (T0 + 60_000, 0.0)]


def test_aggregate_keeps_dimension_sets_apart() -> None:
    spec = MetricFilter("f", "[status, size]", "Web", "Bytes", value="$size",
                        dimensions={"Status": "$status"})
    totals = aggregate_by_minute(metric_data(spec, events("200 10", "404 1", "200 5")))
    assert sorted((d.dimensions["Status"], d.value) for d in totals) == [("200", 15.0),
                                                                          ("404", 1.0)]


@pytest.mark.parametrize(("spec", "words"), [
    (MetricFilter("", "ERROR", "App", "E"), "filter name is empty"),
    (MetricFilter("a:b", "ERROR", "App", "E"), "may not contain ':'"),
    (MetricFilter("f", "ERR*", "App", "E"), "unquoted term"),
    (MetricFilter("f", "ERROR", "", "E"), "namespace is empty"),
    (MetricFilter("f", "ERROR", "App", "E$"), "may not contain '$'"),
    (MetricFilter("f", "ERROR", "App", "E", value="latency"), "must be a number or a selector"),
    (MetricFilter("f", "ERROR", "App", "E", value="$.items[*].v"), "wildcards are not allowed"),
    (MetricFilter("f", "ERROR", "App", "E", value="inf"), "must be a number or a selector"),
    (MetricFilter("f", "ERROR", "App", "E", unit="Apples"), "unknown unit"),
    (MetricFilter("f", "{ $.a = * }", "App", "E", default_value=0.0,
                  dimensions={"A": "$.a"}), "cannot have a default value"),
    (MetricFilter("f", "{ $.a = * }", "App", "E",
                  dimensions={"A": "$.a", "B": "$.b", "C": "$.c", "D": "$.d"}),
     "at most 3 dimensions"),
    (MetricFilter("f", "{ $.a = * }", "App", "E", dimensions={"A": "fixed"}),
     "must be a selector"),
    (MetricFilter("f", "{ $.a = * }", "App", "E", dimensions={"A": "$.a[*]"}),
     "wildcards are not allowed"),
    (MetricFilter("f", "ERROR", "App", "E", default_value=float("nan")), "finite"),
])
def test_invalid_definitions_are_refused(spec: MetricFilter, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        spec.compile()
    assert words in str(caught.value)
