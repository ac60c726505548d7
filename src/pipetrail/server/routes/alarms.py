"""Metric and composite alarms: PutMetricAlarm, PutCompositeAlarm, DescribeAlarms,
DescribeAlarmHistory, DeleteAlarms, SetAlarmState.

Bodies and answers use CloudWatch's field names (``AlarmName``, ``MetricAlarms`` …).
Alarm names may hold any character but control characters (``/`` included), so they
travel in bodies and query parameters, never in paths. The server's leader evaluates
alarms every second; a state change set here goes on the bus and to the alarm's actions,
which the leader delivers.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from pipetrail.actions.alarms import (
    MAX_DELETE,
    MAX_DESCRIBE,
    MAX_HISTORY,
    delete_alarms,
    describe_alarm_history,
    describe_alarms,
    put_composite_alarm,
    put_metric_alarm,
    set_alarm_state,
)
from pipetrail.actions.extensions import alarm_listeners
from pipetrail.alarms.composite import MAX_RULE_LENGTH
from pipetrail.alarms.definition import (
    MAX_ACTION,
    MAX_ACTIONS,
    MAX_DESCRIPTION,
    MAX_DIMENSION_NAME,
    MAX_DIMENSION_VALUE,
    MAX_NAME,
)
from pipetrail.model.clock import parse_time
from pipetrail.model.metrics import MAX_DIMENSIONS
from pipetrail.server.auth import Ctx
from pipetrail.server.responses import ERRORS
from pipetrail.server.routes import PREFIX

router = APIRouter(prefix=PREFIX, tags=["alarms"], responses=ERRORS)

Name = Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME)]
Action = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ACTION)]
Actions = Annotated[list[Action] | None, Field(max_length=MAX_ACTIONS,
                                              description="events target or rule ARNs")]
Text = Annotated[str, StringConstraints(max_length=MAX_NAME)]
Short = Annotated[str, StringConstraints(max_length=64)]
# CloudWatch's longest span is 7 days; the action checks period x evaluation periods.
Seconds = Annotated[int, Field(ge=1, le=604_800)]
Count = Annotated[int, Field(ge=1, le=100_000)]
State = Literal["OK", "ALARM", "INSUFFICIENT_DATA"]
Time = Annotated[str | None, Query(max_length=64,
                                   description="ISO 8601, epoch seconds or ms, 'now', or "
                                               "relative: 15m, 2h, 7d")]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DimensionBody(Body):
    Name: Annotated[str, StringConstraints(min_length=1, max_length=MAX_DIMENSION_NAME)]
    Value: Annotated[str, StringConstraints(min_length=1, max_length=MAX_DIMENSION_VALUE)]


DimensionList = Annotated[list[DimensionBody] | None, Field(max_length=MAX_DIMENSIONS)]


class MetricBody(Body):
    Namespace: Text | None = None
    MetricName: Text | None = None
    Dimensions: DimensionList = None


class MetricStatBody(Body):
    Metric: MetricBody
    Period: Seconds
    Stat: Short
    Unit: Short | None = None


class MetricDataQueryBody(Body):
    Id: Annotated[str, StringConstraints(min_length=1, max_length=MAX_NAME)]
    MetricStat: MetricStatBody | None = None
    Expression: Annotated[str, StringConstraints(max_length=1024)] | None = None
    Label: Text | None = None
    ReturnData: bool | None = None


class AlarmHead(Body):
    AlarmName: Name
    AlarmDescription: Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION)] | None = None
    ActionsEnabled: bool | None = None
    AlarmActions: Actions = None
    OKActions: Actions = None
    InsufficientDataActions: Actions = None


class PutMetricAlarmBody(AlarmHead):
    """CloudWatch's PutMetricAlarm request: a static threshold (``Threshold``) on one
    metric, or an anomaly-detection band (``Metrics`` with an
    ``ANOMALY_DETECTION_BAND(m1, 2)`` expression named by ``ThresholdMetricId``)."""

    Namespace: Text | None = None
    MetricName: Text | None = None
    Dimensions: DimensionList = None
    Statistic: Short | None = Field(default=None, examples=["Average"])
    ExtendedStatistic: Short | None = Field(default=None, examples=["p99"])
    Period: Seconds | None = None
    Unit: Short | None = None
    EvaluationPeriods: Count
    DatapointsToAlarm: Count | None = None
    Threshold: float | None = None
    ComparisonOperator: Short = Field(examples=["GreaterThanThreshold"])
    TreatMissingData: Short | None = Field(default=None,
                                           description="missing, ignore, breaching, "
                                                       "notBreaching")
    EvaluateLowSampleCountPercentile: Short | None = None
    Metrics: Annotated[list[MetricDataQueryBody] | None, Field(max_length=10)] = None
    ThresholdMetricId: Text | None = None


class PutCompositeAlarmBody(AlarmHead):
    AlarmRule: Annotated[str, StringConstraints(min_length=1, max_length=MAX_RULE_LENGTH)] = \
        Field(examples=['ALARM("high-latency") AND NOT OK("errors")'])


class SetAlarmStateBody(Body):
    AlarmName: Name
    StateValue: State
    StateReason: Annotated[str, StringConstraints(min_length=1, max_length=1023)]


@router.put("/alarms", summary="PutMetricAlarm: create or replace a metric alarm")
def put_metric(ctx: Ctx, body: PutMetricAlarmBody) -> dict[str, Any]:
    alarm = put_metric_alarm(ctx, body.model_dump(exclude_none=True))
    return {"MetricAlarm": alarm.to_json(ctx.workspace)}


@router.put("/alarms/composite",
            summary="PutCompositeAlarm: create or replace a composite alarm")
def put_composite(ctx: Ctx, body: PutCompositeAlarmBody) -> dict[str, Any]:
    alarm = put_composite_alarm(ctx, body.model_dump(exclude_none=True))
    return {"CompositeAlarm": alarm.to_json(ctx.workspace)}


@router.get("/alarms", summary="DescribeAlarms: alarms with their current state")
def describe(
    ctx: Ctx,
    alarm_names: Annotated[list[Name] | None,
                           Query(alias="alarmNames", max_length=MAX_DESCRIBE,
                                 description="only these alarms (repeat)")] = None,
    prefix: Annotated[str | None, Query(alias="alarmNamePrefix", min_length=1,
                                        max_length=MAX_NAME)] = None,
    state: Annotated[State | None, Query(alias="stateValue")] = None,
    types: Annotated[list[Literal["MetricAlarm", "CompositeAlarm"]] | None,
                     Query(alias="alarmTypes", max_length=2)] = None,
    max_records: Annotated[int, Query(alias="maxRecords", ge=1, le=MAX_DESCRIBE)] = 50,
) -> dict[str, Any]:
    kinds = set(types or ())
    kind = None if len(kinds) != 1 else ("metric" if "MetricAlarm" in kinds else "composite")
    found = describe_alarms(ctx, alarm_names or (), prefix, state, kind, max_records)
    return {"MetricAlarms": [a for a in found if a["AlarmType"] == "MetricAlarm"],
            "CompositeAlarms": [a for a in found if a["AlarmType"] == "CompositeAlarm"]}


@router.get("/alarms/history",
            summary="DescribeAlarmHistory: state changes and configuration updates, "
                    "newest first")
def history(
    ctx: Ctx,
    alarm_name: Annotated[Name | None, Query(alias="alarmName")] = None,
    item_type: Annotated[Literal["StateUpdate", "ConfigurationUpdate", "Action"] | None,
                         Query(alias="historyItemType")] = None,
    start: Annotated[Time, Query(alias="startDate")] = None,
    end: Annotated[Time, Query(alias="endDate")] = None,
    max_records: Annotated[int, Query(alias="maxRecords", ge=1, le=MAX_HISTORY)] = 100,
) -> dict[str, Any]:
    items = describe_alarm_history(ctx, alarm_name, item_type,
                                   parse_time(start) if start else None,
                                   parse_time(end) if end else None, max_records)
    return {"AlarmHistoryItems": items}


@router.delete("/alarms", summary="DeleteAlarms: delete alarms (not while a composite "
                                  "alarm's rule names them)")
def delete(
    ctx: Ctx,
    alarm_names: Annotated[list[Name], Query(alias="alarmNames", min_length=1,
                                                  max_length=MAX_DELETE,
                                                  description="the alarms (repeat)")],
) -> dict[str, Any]:
    return {"deleted": delete_alarms(ctx, alarm_names)}


@router.post("/alarms/state",
             summary="SetAlarmState: set an alarm's state until its next evaluation")
def set_state(ctx: Ctx, body: SetAlarmStateBody) -> dict[str, Any]:
    change = set_alarm_state(ctx, body.AlarmName, body.StateValue, body.StateReason,
                             alarm_listeners(ctx, deliver=False))
    return {"AlarmName": body.AlarmName, "StateValue": body.StateValue,
            "changed": change is not None,
            "HistorySummary": change.summary if change is not None else None}
