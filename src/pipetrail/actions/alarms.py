"""Alarm actions (CloudWatch names): PutMetricAlarm, PutCompositeAlarm, DescribeAlarms,
DescribeAlarmHistory, DeleteAlarms, SetAlarmState, and evaluation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pipetrail.actions.context import ActionContext
from pipetrail.alarms.composite import CompositeAlarm, reference_name, referenced_by
from pipetrail.alarms.definition import MetricAlarm, check_alarm_name
from pipetrail.alarms.evaluator import (
    AlarmEvaluator,
    ChangeListener,
    alarm_from_stored,
    configuration_item,
    history_json,
    state_of,
)
from pipetrail.alarms.state import AlarmState, StateChange, parse_state_value
from pipetrail.model.arn import alarm_arn
from pipetrail.model.audit import Resource
from pipetrail.model.clock import now_ms
from pipetrail.model.errors import ValidationError
from pipetrail.store.alarms import HistoryItem, StoredAlarm

SOURCE = "alarms"
ALARM_TYPES = {"metric": "MetricAlarm", "composite": "CompositeAlarm"}
MAX_DESCRIBE = 100
MAX_DELETE = 100
MAX_HISTORY = 10_000


def _resource(ctx: ActionContext, name: str) -> Resource:
    return Resource("Pipetrail::Alarms::Alarm", alarm_arn(ctx.workspace, name))


def _named(ctx: ActionContext, definition: object) -> list[Resource]:
    """The alarm a Put request names (decided before the definition is checked)."""
    if not isinstance(definition, Mapping):
        raise ValidationError("an alarm must be a JSON object")
    return [_resource(ctx, check_alarm_name(definition.get("AlarmName")))]


def _names(ctx: ActionContext, names: Sequence[str]) -> list[Resource]:
    return [_resource(ctx, check_alarm_name(name)) for name in dict.fromkeys(names)]


def _put(ctx: ActionContext, kind: str, alarm: MetricAlarm | CompositeAlarm) -> bool:
    now = now_ms()
    alarm.configuration_updated = now
    definition = alarm.to_json()
    for key in [k for k in definition if k.startswith("State")]:
        definition.pop(key)
    initial = AlarmState.initial(now)
    created = ctx.store.put_alarm(StoredAlarm(
        name=alarm.name, kind=kind, definition=definition, state_value=initial.value.value,
        state_reason=initial.reason, state_reason_data=None, state_updated=now,
        state_transitioned=now, updated_on=now))
    summary = f"Alarm \"{alarm.name}\" {'created' if created else 'updated'}"
    ctx.store.add_alarm_history(configuration_item(alarm.name, ALARM_TYPES[kind], now,
                                                   summary, definition))
    return created


def put_metric_alarm(ctx: ActionContext, definition: Mapping[str, Any]) -> MetricAlarm:
    """PutMetricAlarm: create or replace a metric alarm (CloudWatch JSON fields)."""
    params = dict(definition)
    with ctx.call(SOURCE, "PutMetricAlarm", read_only=False, params=params,
                  resources=lambda: _named(ctx, definition)) as call:
        alarm = MetricAlarm.from_json(definition)
        created = _put(ctx, "metric", alarm)
        call.response = {"alarmName": alarm.name, "created": created}
        return alarm


def put_composite_alarm(ctx: ActionContext, definition: Mapping[str, Any]) -> CompositeAlarm:
    """PutCompositeAlarm: create or replace a composite alarm (``AlarmRule``)."""
    params = dict(definition)
    with ctx.call(SOURCE, "PutCompositeAlarm", read_only=False, params=params,
                  resources=lambda: _named(ctx, definition)) as call:
        alarm = CompositeAlarm.from_json(definition)
        existing = {a.name for a in ctx.store.list_alarms()}
        named = {reference_name(ref) for ref in alarm.parsed_rule().references}
        missing = sorted(named - existing)
        if alarm.name in named:
            raise ValidationError("a composite alarm's rule cannot name the alarm itself")
        if missing:
            raise ValidationError(f"the rule names alarms that do not exist: {', '.join(missing)}")
        created = _put(ctx, "composite", alarm)
        call.response = {"alarmName": alarm.name, "created": created}
        return alarm


def describe_alarms(ctx: ActionContext, names: Sequence[str] = (), prefix: str | None = None,
                    state: str | None = None, kind: str | None = None,
                    limit: int = MAX_DESCRIBE) -> list[dict[str, Any]]:
    """DescribeAlarms: alarms in CloudWatch's shape, with their current state. Decided
    for the alarms named in ``names``; for ``*`` without names."""
    params = {"alarmNames": list(names) or None, "alarmNamePrefix": prefix,
              "stateValue": state, "alarmTypes": kind, "maxRecords": limit}
    with ctx.call(SOURCE, "DescribeAlarms", read_only=True, params=params,
                  resources=lambda: _names(ctx, names)) as call:
        if state is not None:
            state = parse_state_value(state).value
        if kind is not None and kind not in ALARM_TYPES:
            raise ValidationError("alarm type must be 'metric' or 'composite'")
        if not 1 <= limit <= MAX_DESCRIBE:
            raise ValidationError(f"limit must be between 1 and {MAX_DESCRIBE}")
        found = ctx.store.list_alarms(names=list(names) or None, prefix=prefix, state=state,
                                      kind=kind, limit=limit)
        if not names:
            call.resources = [_resource(ctx, a.name) for a in found[:20]]
        result = []
        for stored in found:
            alarm = alarm_from_stored(stored)
            data = alarm.to_json(ctx.workspace)
            data["AlarmType"] = ALARM_TYPES[stored.kind]
            result.append(data)
        return result


def describe_alarm_history(ctx: ActionContext, name: str | None = None,
                           item_type: str | None = None, start: int | None = None,
                           end: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """DescribeAlarmHistory: newest first. Decided for the alarm given as ``name``;
    for ``*`` without one."""
    params = {"alarmName": name, "historyItemType": item_type, "startDate": start,
              "endDate": end, "maxRecords": limit}
    with ctx.call(SOURCE, "DescribeAlarmHistory", read_only=True, params=params,
                  resources=lambda: _names(ctx, [name] if name else [])):
        if item_type is not None and item_type not in {"StateUpdate", "ConfigurationUpdate",
                                                       "Action"}:
            raise ValidationError(
                "history item type must be StateUpdate, ConfigurationUpdate or Action")
        if not 1 <= limit <= MAX_HISTORY:
            raise ValidationError(f"limit must be between 1 and {MAX_HISTORY}")
        items = ctx.store.get_alarm_history(name, item_type, start, end, limit)
        return [history_json(i) for i in items]


def delete_alarms(ctx: ActionContext, names: Sequence[str]) -> int:
    """DeleteAlarms: refused for an alarm a composite alarm's rule still names."""

    def named() -> list[Resource]:
        if not names or len(names) > MAX_DELETE:
            raise ValidationError(f"give 1 to {MAX_DELETE} alarm names")
        return _names(ctx, names)

    with ctx.call(SOURCE, "DeleteAlarms", read_only=False,
                  params={"alarmNames": list(names)}, resources=named) as call:
        stored = ctx.store.list_alarms()
        composites = [alarm_from_stored(s) for s in stored if s.kind == "composite"]
        for name in names:
            users = referenced_by([c for c in composites if isinstance(c, CompositeAlarm)
                                   and c.name not in names], name)
            if users:
                raise ValidationError(
                    f"alarm {name!r} is named by composite alarm(s) {', '.join(users)}; "
                    "delete or change them first")
        deleted = ctx.store.delete_alarms(list(names))
        call.response = {"deleted": deleted}
        return deleted


def set_alarm_state(ctx: ActionContext, name: str, state: str, reason: str,
                    listeners: Sequence[ChangeListener] = ()) -> StateChange | None:
    """SetAlarmState: put an alarm in a state until its next evaluation (for testing
    notifications), acting on the change as an evaluation would."""
    params = {"alarmName": name, "stateValue": state, "stateReason": reason}
    with ctx.call(SOURCE, "SetAlarmState", read_only=False, params=params,
                  resources=lambda: _names(ctx, [name])):
        value = parse_state_value(state)
        if not reason or len(reason) > 1023:
            raise ValidationError("a state reason of 1 to 1023 characters is required")
        stored = ctx.store.get_alarm(name)
        alarm = alarm_from_stored(stored)
        previous = state_of(stored)
        if previous.value is value:
            return None
        now = now_ms()
        new = AlarmState(value, reason, None, now, now)
        change = StateChange(name, ALARM_TYPES[stored.kind], now, previous, new)
        item = change.to_json()
        history = HistoryItem(name, change.alarm_type, now, "StateUpdate", change.summary,
                              str(item["HistoryData"]))
        if not ctx.store.set_alarm_state(name, stored.state_updated, value.value, reason,
                                         None, now, now, history):
            raise ValidationError(f"alarm {name!r} changed state meanwhile; try again")
        alarm.state = new
        for listener in listeners:
            listener(change, alarm)
        return change


def evaluate_alarms(ctx: ActionContext, listeners: Sequence[ChangeListener] = (),
                    now: int | None = None) -> list[StateChange]:
    """Evaluate every alarm once (not an API call of its own: not audited per tick)."""
    return AlarmEvaluator(ctx.store, list(listeners)).evaluate_all(now)
