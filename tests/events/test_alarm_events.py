"""Alarm state changes on the bus (CloudWatch's event shape) and alarm actions naming
event targets or rules, delivered to a real webhook receiver."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipetrail.actions.alarms import describe_alarm_history, put_composite_alarm, put_metric_alarm
from pipetrail.actions.alarms import set_alarm_state as set_state
from pipetrail.actions.context import ActionContext
from pipetrail.actions.events import put_rule, put_target
from pipetrail.actions.extensions import alarm_listeners
from pipetrail.alarms.composite import CompositeAlarm
from pipetrail.alarms.definition import MetricAlarm
from pipetrail.alarms.state import AlarmState, StateChange, StateValue
from pipetrail.config import Settings
from pipetrail.events.alarm_events import alarm_state_change
from pipetrail.events.rules import check_pattern_text
from tests.events.receivers import WebhookReceiver


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")


def metric_alarm(name: str = "cpu", **fields: Any) -> dict[str, Any]:
    return {"AlarmName": name, "Namespace": "Pipetrail/Jobs", "MetricName": "process.cpu",
            "Statistic": "Average", "Period": 60, "EvaluationPeriods": 1, "Threshold": 90.0,
            "ComparisonOperator": "GreaterThanThreshold",
            "Dimensions": [{"Name": "JobName", "Value": "nightly"}], **fields}


def change(name: str, old: StateValue, new: StateValue) -> StateChange:
    return StateChange(name, "MetricAlarm", 1_795_600_000_123,
                       AlarmState(old, "was fine", None, 1_795_599_000_000),
                       AlarmState(new, "Threshold Crossed: …", {"version": "1.0"},
                                  1_795_600_000_123))


def test_the_event_has_cloudwatch_alarm_state_change_shape() -> None:
    alarm = MetricAlarm.from_json(metric_alarm(AlarmDescription="hot"))
    event = alarm_state_change(change("cpu", StateValue.OK, StateValue.ALARM), alarm,
                               "team").to_json()
    assert (event["source"], event["detail-type"], event["account"], event["time"]) == (
        "pipetrail.alarms", "Alarm State Change", "team", "2026-11-25T09:46:40Z")
    assert event["resources"] == ["arn:pipetrail:alarms:team:alarm/cpu"]
    detail = event["detail"]
    assert detail["state"] == {"value": "ALARM", "reason": "Threshold Crossed: …",
                               "reasonData": '{"version":"1.0"}',
                               "timestamp": "2026-11-25T09:46:40.123+0000"}
    assert detail["previousState"]["value"] == "OK"
    assert detail["configuration"] == {"description": "hot", "metrics": [{
        "id": "m1", "returnData": True,
        "metricStat": {"metric": {"namespace": "Pipetrail/Jobs", "name": "process.cpu",
                                  "dimensions": {"JobName": "nightly"}},
                       "period": 60, "stat": "Average"}}]}
    pattern = check_pattern_text('{"source": ["pipetrail.alarms"], '
                                 '"detail": {"state": {"value": ["ALARM"]}}}')
    assert pattern.matches(event)


def test_composite_alarms_carry_their_rule() -> None:
    alarm = CompositeAlarm(name="both", rule='ALARM("cpu") AND ALARM("mem")')
    event = alarm_state_change(change("both", StateValue.OK, StateValue.ALARM), alarm, "local")
    assert event.detail["configuration"] == {"description": "",
                                             "alarmRule": 'ALARM("cpu") AND ALARM("mem")'}


def test_alarm_actions_name_targets_and_rules(ctx: ActionContext,
                                              receiver: WebhookReceiver) -> None:
    put_target(ctx, "oncall", "webhook", {"url": receiver.url + "/oncall"})
    put_target(ctx, "team", "webhook", {"url": receiver.url + "/team"})
    put_rule(ctx, "paging", '{"source": ["nobody"]}', targets=["team"])
    put_rule(ctx, "off", '{"source": ["nobody"]}', targets=["team"], state="DISABLED")
    put_metric_alarm(ctx, metric_alarm(AlarmActions=[
        "arn:pipetrail:events:local:target/oncall",
        "arn:pipetrail:events:local:rule/paging",
        "arn:pipetrail:events:local:target/missing",
        "arn:pipetrail:events:elsewhere:target/oncall",
        "arn:pipetrail:events:local:rule/off",
    ], OKActions=["arn:pipetrail:events:local:target/oncall"]))
    set_state(ctx, "cpu", "ALARM", "testing", alarm_listeners(ctx))
    requests = receiver.wait_for(2)
    assert sorted(r.path for r in requests) == ["/hook/oncall", "/hook/team"]
    assert {r.json["detail"]["state"]["value"] for r in requests} == {"ALARM"}
    items = describe_alarm_history(ctx, "cpu", item_type="Action")
    summaries = sorted(i["HistorySummary"] for i in items)
    assert summaries[-2:] == [
        "Successfully queued action arn:pipetrail:events:local:rule/paging",
        "Successfully queued action arn:pipetrail:events:local:target/oncall"]
    failures = [s for s in summaries if s.startswith("Failed")]
    assert len(failures) == 3
    assert any("no target named 'missing'" in s for s in failures)
    assert any("is in workspace 'elsewhere'" in s for s in failures)
    assert any("rule 'off' is disabled" in s for s in failures)
    data = json.loads(next(i["HistoryData"] for i in items if "target/oncall" in
                           i["HistorySummary"] and "Successfully" in i["HistorySummary"]))
    assert data["actionState"] == "Succeeded"
    set_state(ctx, "cpu", "OK", "back", alarm_listeners(ctx))
    [*_, ok_request] = receiver.wait_for(3)
    assert ok_request.path == "/hook/oncall"
    assert ok_request.json["detail"]["state"]["value"] == "OK"


def test_every_change_goes_on_the_bus_even_without_actions(
        ctx: ActionContext, receiver: WebhookReceiver) -> None:
    put_target(ctx, "feed", "webhook", {"url": receiver.url})
    put_rule(ctx, "alarms", '{"source": ["pipetrail.alarms"]}', targets=["feed"])
    put_metric_alarm(ctx, metric_alarm(ActionsEnabled=False,
                                       AlarmActions=["arn:pipetrail:events:local:target/x"]))
    put_composite_alarm(ctx, {"AlarmName": "any", "AlarmRule": 'ALARM("cpu")'})
    set_state(ctx, "cpu", "ALARM", "testing", alarm_listeners(ctx))
    [request] = receiver.wait_for(1)
    assert request.json["detail"]["alarmName"] == "cpu"
    assert describe_alarm_history(ctx, "cpu", item_type="Action") == []  # actions disabled
