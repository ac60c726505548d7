"""The alarm routes against a real server, on SQLite and PostgreSQL: CloudWatch-shaped
bodies and answers, state changes delivered by the leader, and policies scoped to
single alarms."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from pipetrail.store.store import AuditQuery
from tests.events.receivers import WebhookReceiver
from tests.server.conftest import Api
from tests.servers import principal_with_token

NAME = "etl/nightly latency"  # a slash and a space: names travel in bodies and queries


def metric_alarm(name: str = NAME, **extra: Any) -> dict[str, Any]:
    return {"AlarmName": name, "Namespace": "App", "MetricName": "latency",
            "Dimensions": [{"Name": "JobName", "Value": "nightly"}], "Statistic": "Maximum",
            "Period": 60, "EvaluationPeriods": 3, "DatapointsToAlarm": 2, "Threshold": 100,
            "ComparisonOperator": "GreaterThanThreshold", **extra}


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver()
    yield server
    server.close()


def test_alarms_are_put_described_set_and_deleted(api: Api) -> None:
    with api.client(api.admin) as client:
        put = client.put("/api/v1/alarms", json=metric_alarm())
        assert put.status_code == 200, put.text
        alarm = put.json()["MetricAlarm"]
        assert alarm["AlarmArn"] == f"arn:pipetrail:alarms:local:alarm/{NAME}"
        assert (alarm["Threshold"], alarm["DatapointsToAlarm"]) == (100.0, 2)
        band = metric_alarm("band", Threshold=None,
                            ComparisonOperator="LessThanLowerOrGreaterThanUpperThreshold")
        metric = {k: band.pop(k) for k in ("Namespace", "MetricName", "Dimensions")}
        band["Metrics"] = [
            {"Id": "m1", "MetricStat": {"Metric": metric, "Period": band.pop("Period"),
                                        "Stat": band.pop("Statistic")}, "ReturnData": True},
            {"Id": "ad1", "Expression": "ANOMALY_DETECTION_BAND(m1, 3)"}]
        band["ThresholdMetricId"] = "ad1"
        band.pop("Threshold")
        answer = client.put("/api/v1/alarms", json=band)
        assert answer.status_code == 200, answer.text
        assert answer.json()["MetricAlarm"]["Metrics"][1]["Expression"] == \
            "ANOMALY_DETECTION_BAND(m1, 3)"
        composite = {"AlarmName": "both", "AlarmRule": f'ALARM("{NAME}") AND ALARM(band)'}
        assert client.put("/api/v1/alarms/composite", json=composite).status_code == 200
        # Checked as PutMetricAlarm checks: the message names the problem.
        bad = client.put("/api/v1/alarms", json=metric_alarm("odd", Period=7))
        assert bad.status_code == 400 and "Period" in bad.json()["message"]
        unknown = client.put("/api/v1/alarms", json=metric_alarm("odd", Tags=[]))
        assert unknown.status_code == 400 and "Tags" in unknown.json()["message"]
        missing = client.put("/api/v1/alarms/composite",
                             json={"AlarmName": "c", "AlarmRule": 'ALARM("nobody")'})
        assert missing.status_code == 400 and "nobody" in missing.json()["message"]

        described = client.get("/api/v1/alarms").json()
        assert sorted(a["AlarmName"] for a in described["MetricAlarms"]) == ["band", NAME]
        assert [a["AlarmName"] for a in described["CompositeAlarms"]] == ["both"]
        assert {a["StateValue"] for a in described["MetricAlarms"]} == {"INSUFFICIENT_DATA"}
        only = client.get("/api/v1/alarms", params={"alarmTypes": "CompositeAlarm"}).json()
        assert (only["MetricAlarms"], len(only["CompositeAlarms"])) == ([], 1)
        named = client.get("/api/v1/alarms", params={"alarmNames": [NAME, "band"]}).json()
        assert len(named["MetricAlarms"]) == 2
        assert client.get("/api/v1/alarms", params={"stateValue": "BAD"}).status_code == 400

        state = {"AlarmName": NAME, "StateValue": "ALARM", "StateReason": "testing actions"}
        changed = client.post("/api/v1/alarms/state", json=state).json()
        assert changed["changed"] is True
        assert "INSUFFICIENT_DATA to ALARM" in changed["HistorySummary"]
        assert client.post("/api/v1/alarms/state", json=state).json()["changed"] is False
        now = client.get("/api/v1/alarms", params={"alarmNames": NAME,
                                                   "stateValue": "ALARM"}).json()
        assert now["MetricAlarms"][0]["StateReason"] == "testing actions"
        nobody = client.post("/api/v1/alarms/state", json={**state, "AlarmName": "nobody"})
        assert nobody.status_code == 404

        history = client.get("/api/v1/alarms/history", params={"alarmName": NAME}).json()
        kinds = [i["HistoryItemType"] for i in history["AlarmHistoryItems"]]
        assert kinds == ["StateUpdate", "ConfigurationUpdate"]  # newest first
        updates = client.get("/api/v1/alarms/history",
                             params={"historyItemType": "ConfigurationUpdate",
                                     "startDate": "1h", "maxRecords": 2}).json()
        assert len(updates["AlarmHistoryItems"]) == 2
        late = client.get("/api/v1/alarms/history", params={"endDate": "2000-01-01"}).json()
        assert late["AlarmHistoryItems"] == []
        assert client.get("/api/v1/alarms/history",
                          params={"startDate": "someday"}).status_code == 400

        refused = client.delete("/api/v1/alarms", params={"alarmNames": NAME})
        assert refused.status_code == 400 and "both" in refused.json()["message"]
        gone = client.delete("/api/v1/alarms", params={"alarmNames": ["both", NAME]})
        assert gone.json() == {"deleted": 2}
        left = client.get("/api/v1/alarms").json()
        assert [a["AlarmName"] for a in left["MetricAlarms"]] == ["band"]

    [put_call] = api.ctx.store.lookup_audit_events(AuditQuery(event_name="SetAlarmState",
                                                              limit=3))[-1:]
    assert put_call["userIdentity"]["userName"] == "admin"
    assert put_call["resources"] == [{"type": "Pipetrail::Alarms::Alarm",
                                      "ARN": f"arn:pipetrail:alarms:local:alarm/{NAME}"}]


def test_a_state_set_over_http_reaches_the_alarm_actions_through_the_leader(
        api: Api, receiver: WebhookReceiver) -> None:
    with api.client(api.admin) as client:
        hook = client.put("/api/v1/events/targets/oncall",
                          json={"type": "webhook", "url": receiver.url})
        assert hook.status_code == 200, hook.text
        arn = hook.json()["target"]["arn"]
        assert client.put("/api/v1/alarms", json=metric_alarm(AlarmActions=[arn])
                          ).status_code == 200
        answer = client.post("/api/v1/alarms/state", json={
            "AlarmName": NAME, "StateValue": "ALARM", "StateReason": "paging test"})
        assert answer.json()["changed"] is True
    # The request only queued the delivery; the server's leader made it.
    [request] = receiver.wait_for(1)
    event = request.json
    assert event["detail-type"] == "Alarm State Change"
    assert event["detail"]["alarmName"] == NAME
    assert event["detail"]["state"]["value"] == "ALARM"
    assert request.signature_valid(hook.json()["generatedSecret"])


SCOPED = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": "alarms:*",
     "Resource": "arn:pipetrail:alarms:local:alarm/team-*"}]})


def test_a_policy_scoped_to_some_alarms_allows_them_and_refuses_the_others(
        api: Api) -> None:
    token = principal_with_token(api.ctx, "teamlead", SCOPED)
    with api.client(api.admin) as admin:
        assert admin.put("/api/v1/alarms", json=metric_alarm("other")).status_code == 200
    with api.client(token) as client:
        assert client.put("/api/v1/alarms", json=metric_alarm("team-a")).status_code == 200
        denied = client.put("/api/v1/alarms", json=metric_alarm("other"))
        assert denied.status_code == 403
        assert "alarm/other" in denied.json()["message"]
        record = api.ctx.store.lookup_audit_events(AuditQuery(user="teamlead", limit=1))[0]
        assert (record["eventName"], record["errorCode"]) == ("PutMetricAlarm", "AccessDenied")
        assert record["resources"][0]["ARN"] == "arn:pipetrail:alarms:local:alarm/other"

        mine = client.get("/api/v1/alarms", params={"alarmNames": "team-a"})
        assert [a["AlarmName"] for a in mine.json()["MetricAlarms"]] == ["team-a"]
        # Without names the call is for every alarm: '*', which the policy does not cover.
        assert client.get("/api/v1/alarms").status_code == 403
        assert client.get("/api/v1/alarms", params={"alarmNames": "other"}).status_code == 403
        assert client.get("/api/v1/alarms/history",
                          params={"alarmName": "team-a"}).status_code == 200
        assert client.get("/api/v1/alarms/history",
                          params={"alarmName": "other"}).status_code == 403
        state = {"StateValue": "ALARM", "StateReason": "test"}
        assert client.post("/api/v1/alarms/state",
                           json={"AlarmName": "team-a", **state}).status_code == 200
        assert client.post("/api/v1/alarms/state",
                           json={"AlarmName": "other", **state}).status_code == 403
        # Every alarm of a DeleteAlarms must be allowed; none is deleted otherwise.
        both = client.delete("/api/v1/alarms", params={"alarmNames": ["team-a", "other"]})
        assert both.status_code == 403
        assert client.delete("/api/v1/alarms",
                             params={"alarmNames": "team-a"}).json() == {"deleted": 1}
    assert [a.name for a in api.ctx.store.list_alarms()] == ["other"]
