"""Log group, retention, expiry, metric filter and tail actions: what they do and what the
trail records of them."""

from __future__ import annotations

from typing import Any

import pytest

from pipetrail.actions import log_groups, logs, metric_filters
from pipetrail.actions.context import ActionContext
from pipetrail.logs.metric_filter import MetricFilter
from pipetrail.model.errors import NotFoundError, ValidationError
from pipetrail.model.log_groups import DAY_MS
from pipetrail.model.logs import ERROR_GROUP, OUTPUT_GROUP, LogEvent
from pipetrail.model.runs import JobRun, RunState, new_run_id
from pipetrail.store.store import AuditQuery

NOW = 1_800_000_000_000


def newest(ctx: ActionContext) -> dict[str, Any]:
    return ctx.store.lookup_audit_events(AuditQuery(limit=1))[0]


def errors_filter(name: str = "errors", pattern: str = "ERROR") -> MetricFilter:
    return MetricFilter(name=name, pattern=pattern, namespace="App", metric_name="Errors")


def test_each_action_is_recorded_with_its_resources(ctx: ActionContext) -> None:
    arn = "arn:pipetrail:logs:local:log-group:/app/x"
    writes = [
        ("CreateLogGroup", lambda: log_groups.create_log_group(ctx, "/app/x", 30),
         {"logGroupName": "/app/x", "retentionInDays": 30}),
        ("PutRetentionPolicy", lambda: log_groups.put_retention_policy(ctx, "/app/x", 7),
         {"logGroupName": "/app/x", "retentionInDays": 7}),
        ("DeleteRetentionPolicy", lambda: log_groups.delete_retention_policy(ctx, "/app/x"),
         {"logGroupName": "/app/x", "retentionInDays": None}),
        ("PutMetricFilter",
         lambda: metric_filters.put_metric_filter(ctx, "/app/x", errors_filter()),
         {"filterName": "errors", "created": True}),
        ("DeleteMetricFilter",
         lambda: metric_filters.delete_metric_filter(ctx, "/app/x", "errors"),
         {"filterName": "errors", "deleted": True}),
    ]
    for name, call, response in writes:
        call()
        record = newest(ctx)
        assert (record["eventName"], record["eventSource"]) == (name, "logs.pipetrail")
        assert record["readOnly"] is False
        assert record["responseElements"] == response
        assert record["resources"] == [{"type": "Pipetrail::Logs::LogGroup", "ARN": arn}]
    reads = [
        ("DescribeLogGroups", lambda: log_groups.describe_log_groups(ctx)),
        ("DescribeLogStreams", lambda: log_groups.describe_log_streams(ctx, "/app/x")),
        ("DescribeMetricFilters", lambda: metric_filters.describe_metric_filters(ctx)),
    ]
    for name, call in reads:
        call()
        record = newest(ctx)
        assert record["eventName"] == name and record["readOnly"] is True
        assert record["responseElements"] is None


@pytest.mark.parametrize("call, code", [
    (lambda ctx: log_groups.put_retention_policy(ctx, OUTPUT_GROUP, 2), "ValidationException"),
    (lambda ctx: log_groups.put_retention_policy(ctx, "/none", 7), "EntityNotFoundException"),
    (lambda ctx: log_groups.create_log_group(ctx, "bad:name"), "ValidationException"),
    (lambda ctx: log_groups.create_log_group(ctx, "/x", retention_days=0),
     "ValidationException"),
    (lambda ctx: log_groups.describe_log_streams(ctx, OUTPUT_GROUP, order_by="size"),
     "ValidationException"),
    (lambda ctx: log_groups.describe_log_streams(ctx, OUTPUT_GROUP, prefix="jr",
                                                 order_by="lastEvent"), "ValidationException"),
    (lambda ctx: log_groups.expire_log_events(ctx, OUTPUT_GROUP), "ValidationException"),
    (lambda ctx: metric_filters.put_metric_filter(ctx, "/none", errors_filter()),
     "EntityNotFoundException"),
    (lambda ctx: metric_filters.describe_metric_filters(ctx, metric_name="Errors"),
     "ValidationException"),
    (lambda ctx: metric_filters.describe_metric_filters(ctx, prefix="e"),
     "ValidationException"),
])
def test_refused_calls_are_recorded_with_their_error(ctx: ActionContext, call: Any,
                                                     code: str) -> None:
    with pytest.raises((ValidationError, NotFoundError)):
        call(ctx)
    assert newest(ctx)["errorCode"] == code


def test_expiry_deletes_and_records_what_it_deleted(ctx: ActionContext) -> None:
    ctx.store.append_log_events([LogEvent(OUTPUT_GROUP, "jr_a", NOW - 40 * DAY_MS, "old"),
                                 LogEvent(OUTPUT_GROUP, "jr_b", NOW - DAY_MS, "new"),
                                 LogEvent(ERROR_GROUP, "jr_a", NOW - 40 * DAY_MS, "kept")])
    log_groups.put_retention_policy(ctx, OUTPUT_GROUP, 30)
    expired = log_groups.expire_log_events(ctx, now=NOW)
    assert [(e.group, e.deleted_events, e.deleted_streams) for e in expired] == [
        (OUTPUT_GROUP, 1, 1)]
    record = newest(ctx)
    assert record["eventName"] == "ExpireLogEvents" and record["readOnly"] is False
    assert record["responseElements"]["deletedEvents"] == 1
    assert record["responseElements"]["expired"][0]["cutoffTime"] == NOW - 30 * DAY_MS
    assert [s.name for s in ctx.store.describe_log_streams(OUTPUT_GROUP)] == ["jr_b"]
    assert ctx.store.count_log_events(ERROR_GROUP, "jr_a") == 1


def test_metric_filter_quotas(ctx: ActionContext, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(metric_filters.MAX_REGEX_FILTERS_PER_GROUP):
        metric_filters.put_metric_filter(ctx, OUTPUT_GROUP, errors_filter(f"r{n}", f"%E{n}%"))
    with pytest.raises(ValidationError, match="5 metric filters with a regular expression"):
        metric_filters.put_metric_filter(ctx, OUTPUT_GROUP, errors_filter("r9", "%E9%"))
    metric_filters.put_metric_filter(ctx, OUTPUT_GROUP, errors_filter("r0", "%changed%"))
    metric_filters.put_metric_filter(ctx, OUTPUT_GROUP, errors_filter("q", '"100%"'))
    monkeypatch.setattr(metric_filters, "MAX_FILTERS_PER_GROUP", 6)
    with pytest.raises(ValidationError, match="already has 6 metric filters"):
        metric_filters.put_metric_filter(ctx, OUTPUT_GROUP, errors_filter("one-more"))


@pytest.mark.parametrize("pattern, expected", [
    ("%ERROR%", True), ("[ip, status = %4[0-9]{2}%]", True), ('{ $.a = %x% }', True),
    ('"100%"', False), ("ERROR", False), ('{ $.msg = "50% \\" %" }', False),
])
def test_which_patterns_count_as_regex_filters(pattern: str, expected: bool) -> None:
    assert metric_filters.uses_regex(pattern) is expected


def test_tail_with_a_pattern_finds_the_last_matching_lines(ctx: ActionContext) -> None:
    run = JobRun(run_id=new_run_id(), job_name="j", state=RunState.SUCCEEDED,
                 started_on=NOW, arguments=[])
    ctx.store.create_run(run)
    lines = [f"ERROR {i}" if i % 1000 == 0 else f"INFO {i}" for i in range(12_000)]
    for start in range(0, len(lines), 4000):
        ctx.store.append_log_events([LogEvent(OUTPUT_GROUP, run.run_id, NOW, line)
                                     for line in lines[start:start + 4000]])
    shown = [e.message for e in logs.tail(ctx, run.run_id, lines=3, pattern="ERROR")]
    assert shown == ["ERROR 9000", "ERROR 10000", "ERROR 11000"]
    assert newest(ctx)["requestParameters"]["logEventFilterPattern"] == "ERROR"
    followed = [e.message for e in logs.tail(ctx, run.run_id, lines=0, follow=True)]
    assert followed == []  # the run has ended: nothing new will come


@pytest.mark.parametrize("changes, message", [
    ({"pattern": "{ $.x = }"}, "invalid filter pattern"),
    ({"value": "latency"}, "must be a number or a selector"),
    ({"unit": "Parsecs"}, "unknown unit"),
    ({"pattern": "[a, b]", "dimensions": {"A": "$a"}, "default_value": 0.0},
     "cannot have a default value"),
    ({"dimensions": {"A": "$.a", "B": "$.b", "C": "$.c", "D": "$.d"}}, "at most 3 dimensions"),
    ({"name": "a:b"}, "may not contain ':'"),
    ({"metric_name": ""}, "metric name is empty"),
])
def test_bad_metric_filters_are_refused(ctx: ActionContext, changes: dict[str, Any],
                                        message: str) -> None:
    fields = {"name": "f", "pattern": "ERROR", "namespace": "App", "metric_name": "Errors",
              **changes}
    with pytest.raises(ValidationError) as caught:
        metric_filters.put_metric_filter(ctx, OUTPUT_GROUP, MetricFilter(**fields))
    assert message in str(caught.value)
    assert newest(ctx)["errorCode"] == "ValidationException"
