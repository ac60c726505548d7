"""Stored alarms evaluated against stored metrics, on both backends."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipetrail.actions import alarms, metrics
from pipetrail.actions.context import ActionContext
from pipetrail.alarms.evaluator import AlarmEvaluator
from pipetrail.alarms.state import StateChange
from pipetrail.model.errors import NotFoundError, ValidationError
from pipetrail.model.metrics import MetricDatum
from pipetrail.store.store import AuditQuery
from tests.conftest import Cli, ScriptFactory

T0 = 1_790_000_040_000  # a multiple of 60 s
DIMS = {"JobName": "nightly"}


def alarm_json(name: str = "high-latency", **extra: Any) -> dict[str, Any]:
    return {"AlarmName": name, "Namespace": "App", "MetricName": "latency",
            "Dimensions": [{"Name": "JobName", "Value": "nightly"}], "Statistic": "Maximum",
            "Period": 60, "EvaluationPeriods": 3, "DatapointsToAlarm": 2, "Threshold": 100,
            "ComparisonOperator": "GreaterThanThreshold", **extra}


def put(ctx: ActionContext, minute: int, value: float) -> None:
    metrics.put_metric_data(ctx, [MetricDatum("App", "latency", T0 + minute * 60_000 + 5,
                                              value, "Milliseconds", DIMS)])


def state(ctx: ActionContext, name: str = "high-latency") -> str:
    return str(alarms.describe_alarms(ctx, [name])[0]["StateValue"])


def test_an_alarm_goes_through_its_states(ctx: ActionContext) -> None:
    alarms.put_metric_alarm(ctx, alarm_json())
    assert state(ctx) == "INSUFFICIENT_DATA"
    for minute, value in enumerate([50, 150, 180]):
        put(ctx, minute, value)
    changes = alarms.evaluate_alarms(ctx, now=T0 + 3 * 60_000)
    assert [c.new.value.value for c in changes] == ["ALARM"]
    assert state(ctx) == "ALARM"
    assert "2 out of the last 3 datapoints" in changes[0].new.reason
    for minute in (3, 4, 5):
        put(ctx, minute, 10)
    assert [c.new.value.value for c in alarms.evaluate_alarms(ctx, now=T0 + 6 * 60_000)] == ["OK"]
    history = alarms.describe_alarm_history(ctx, "high-latency", item_type="StateUpdate")
    assert [h["HistorySummary"] for h in history] == [
        "Alarm updated from ALARM to OK", "Alarm updated from INSUFFICIENT_DATA to ALARM"]
    assert json.loads(history[0]["HistoryData"])["newState"]["stateValue"] == "OK"
    configuration = alarms.describe_alarm_history(ctx, "high-latency", "ConfigurationUpdate")
    assert [h["HistorySummary"] for h in configuration] == ['Alarm "high-latency" created']


def test_updating_an_alarm_keeps_its_state(ctx: ActionContext) -> None:
    alarms.put_metric_alarm(ctx, alarm_json())
    alarms.set_alarm_state(ctx, "high-latency", "ALARM", "testing")
    alarms.put_metric_alarm(ctx, alarm_json(Threshold=500))
    found = alarms.describe_alarms(ctx, ["high-latency"])[0]
    assert found["StateValue"] == "ALARM" and found["Threshold"] == 500


def test_composite_alarms_follow_their_children(ctx: ActionContext) -> None:
    alarms.put_metric_alarm(ctx, alarm_json("a"))
    alarms.put_metric_alarm(ctx, alarm_json("b"))
    alarms.put_composite_alarm(ctx, {"AlarmName": "both", "AlarmRule": 'ALARM("a") AND ALARM(b)'})
    with pytest.raises(ValidationError, match="do not exist"):
        alarms.put_composite_alarm(ctx, {"AlarmName": "x", "AlarmRule": 'ALARM("nope")'})
    for minute, value in enumerate([150, 180, 190]):
        put(ctx, minute, value)
    changes = alarms.evaluate_alarms(ctx, now=T0 + 3 * 60_000)
    assert {(c.alarm_name, c.new.value.value) for c in changes} == {
        ("a", "ALARM"), ("b", "ALARM"), ("both", "ALARM")}
    with pytest.raises(ValidationError, match="named by composite"):
        alarms.delete_alarms(ctx, ["a"])
    assert alarms.delete_alarms(ctx, ["both", "a"]) == 2
    assert [a["AlarmName"] for a in alarms.describe_alarms(ctx)] == ["b"]


def test_racing_evaluators_record_each_change_once(ctx: ActionContext) -> None:
    alarms.put_metric_alarm(ctx, alarm_json())
    for minute, value in enumerate([150, 180, 190]):
        put(ctx, minute, value)
    seen: list[StateChange] = []
    first = AlarmEvaluator(ctx.store, [lambda change, _alarm: seen.append(change)])
    second = AlarmEvaluator(ctx.store, [lambda change, _alarm: seen.append(change)])
    now = T0 + 3 * 60_000
    evaluation = first.evaluate_metric(alarms.alarm_from_stored(  # type: ignore[arg-type]
        ctx.store.get_alarm("high-latency")), now)
    assert evaluation.changed
    second.evaluate_all(now)  # records the change first
    assert first.evaluate_all(now) == []  # sees ALARM already: nothing to record
    assert len(seen) == 1
    assert [h["HistoryItemType"] for h in alarms.describe_alarm_history(ctx)].count(
        "StateUpdate") == 1


def test_set_state_calls_listeners_and_is_audited(ctx: ActionContext) -> None:
    alarms.put_metric_alarm(ctx, alarm_json())
    seen: list[str] = []
    change = alarms.set_alarm_state(ctx, "high-latency", "ALARM", "drill",
                                    [lambda c, a: seen.append(f"{a.name}:{c.new.value.value}")])
    assert change is not None and seen == ["high-latency:ALARM"]
    assert alarms.set_alarm_state(ctx, "high-latency", "ALARM", "again") is None
    with pytest.raises(NotFoundError):
        alarms.set_alarm_state(ctx, "missing", "OK", "x")
    names = [e["eventName"] for e in ctx.store.lookup_audit_events(AuditQuery(limit=10))]
    assert names[:3] == ["SetAlarmState", "SetAlarmState", "SetAlarmState"]


@pytest.mark.parametrize("change, message", [
    ({"EvaluationPeriods": 2, "DatapointsToAlarm": 3}, "DatapointsToAlarm"),
    ({"Period": 45}, "Period"),
    ({"ComparisonOperator": "Bigger"}, "ComparisonOperator"),
])
def test_invalid_alarms_are_refused_and_audited(ctx: ActionContext, change: dict[str, Any],
                                                message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        alarms.put_metric_alarm(ctx, alarm_json(**change))
    event = ctx.store.lookup_audit_events(AuditQuery(limit=1))[0]
    assert event["eventName"] == "PutMetricAlarm"
    assert event["errorCode"] == "ValidationException"


def test_metrics_verbs(cli: Cli) -> None:
    for value in (10, 20, 30):
        assert cli("metrics", "put", "--namespace", "App", "--name", "rows", "--value",
                   str(value), "--unit", "Count", "--dimension", "JobName=n",
                   "--timestamp", "2026-11-24T10:00:10Z").returncode == 0
    result = cli("metrics", "statistics", "--namespace", "App", "--name", "rows",
                 "--dimension", "JobName=n", "--start", "2026-11-24T10:00:00Z",
                 "--end", "2026-11-24T10:01:00Z", "--period", "60",
                 "--statistics", "SampleCount,Sum,p50,Maximum", "--format", "json")
    assert result.returncode == 0, result.stderr
    [point] = json.loads(result.stdout)
    assert point["statistics"] == {"SampleCount": 3, "Sum": 60, "p50": 20, "Maximum": 30}
    bad = cli("metrics", "statistics", "--namespace", "App", "--name", "rows",
              "--start", "1h", "--period", "7")
    assert bad.returncode == 2 and "period" in bad.stderr.lower()
    cli("metrics", "put", "--namespace", "App", "--name", "rows", "--value", "5",
        "--dimension", "JobName=n")
    text = cli("metrics", "prometheus").stdout
    assert 'app_rows{JobName="n"} 5.0' in text and 'TYPE app_rows gauge' in text


def test_an_alarm_on_a_job_changes_state_during_its_run(cli: Cli, script: ScriptFactory) -> None:
    put_alarm = cli("alarms", "put", "--name", "job-memory", "--namespace", "Pipetrail/Jobs",
                    "--metric-name", "process.memory.rss", "--dimension", "JobName=memjob",
                    "--dimension", "JobRunId=ALL", "--statistic", "Maximum", "--period", "1",
                    "--evaluation-periods", "1", "--threshold", "1000000",
                    "--comparison-operator", "GreaterThanThreshold",
                    "--treat-missing-data", "ignore")
    assert put_alarm.returncode == 0, put_alarm.stderr
    run = cli("run", "--job", "memjob", str(script("import time\ntime.sleep(3)\n")),
              env={"PIPETRAIL_SAMPLE_INTERVAL": "0.2"})
    assert run.returncode == 0, run.stderr
    described = json.loads(cli("alarms", "describe", "--format", "json").stdout)
    assert described[0]["StateValue"] == "ALARM"
    history = json.loads(cli("alarms", "history", "--name", "job-memory", "--type",
                             "StateUpdate", "--format", "json").stdout)
    assert history[-1]["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"
    outcome = cli("metrics", "statistics", "--namespace", "Pipetrail/Jobs", "--name",
                  "glue.succeed.ALL", "--dimension", "JobName=memjob", "--dimension",
                  "JobRunId=ALL", "--start", "1h", "--period", "3600", "--statistics", "Sum",
                  "--format", "json")
    assert sum(p["statistics"]["Sum"] for p in json.loads(outcome.stdout)) == 1
