"""Alarm state changes as events, and alarm actions that name event targets or rules.

Every recorded alarm state change is put on the bus as an ``Alarm State Change`` event
(source ``pipetrail.alarms``), shaped like CloudWatch's ``CloudWatch Alarm State
Change``. Independently, the alarm's actions for the new state (``AlarmActions``,
``OKActions``, ``InsufficientDataActions``, when ``ActionsEnabled``) are carried out:

* ``arn:pipetrail:events:<workspace>:target/<name>``: the event goes to that target;
* ``arn:pipetrail:events:<workspace>:rule/<name>``: the event goes to every target of
  that (enabled) rule, whatever its pattern.

Each action leaves an ``Action`` item in the alarm's history, as in CloudWatch.
"""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import orjson

from pipetrail.events.envelope import EventEnvelope
from pipetrail.events.notifier import Notifier
from pipetrail.events.rules import DISABLED, parse_events_arn
from pipetrail.model.arn import alarm_arn
from pipetrail.model.errors import NotFoundError, PipetrailError
from pipetrail.store.alarms import HistoryItem

if TYPE_CHECKING:
    from pipetrail.alarms.composite import CompositeAlarm
    from pipetrail.alarms.definition import MetricAlarm
    from pipetrail.alarms.state import AlarmState, StateChange
    from pipetrail.store import Store

# The alarm modules are imported only when an alarm changes (runs without alarms never
# load them).

ALARMS_SOURCE = "pipetrail.alarms"
ALARM_STATE_CHANGE = "Alarm State Change"


def _state(state: AlarmState) -> dict[str, Any]:
    from pipetrail.alarms.state import reason_time

    data: dict[str, Any] = {"value": state.value.value, "reason": state.reason,
                            "timestamp": reason_time(state.timestamp)}
    if state.reason_data is not None:
        data["reasonData"] = state.reason_data_text()
    return data


def _configuration(alarm: MetricAlarm | CompositeAlarm) -> dict[str, Any]:
    from pipetrail.alarms.composite import CompositeAlarm

    if isinstance(alarm, CompositeAlarm):
        return {"description": alarm.description, "alarmRule": alarm.rule}
    metric: dict[str, Any] = {"namespace": alarm.namespace, "name": alarm.metric_name,
                              "dimensions": dict(alarm.dimensions)}
    stat: dict[str, Any] = {"metric": metric, "period": alarm.period, "stat": alarm.stat}
    if alarm.unit:
        stat["unit"] = alarm.unit
    metrics: list[dict[str, Any]] = [{"id": "m1", "metricStat": stat, "returnData": True}]
    if alarm.operator.uses_band:
        metrics.append({"id": "ad1", "returnData": True,
                        "expression": f"ANOMALY_DETECTION_BAND(m1, {alarm.band_width or 2:g})"})
    return {"description": alarm.description, "metrics": metrics}


def alarm_state_change(change: StateChange, alarm: MetricAlarm | CompositeAlarm,
                       workspace: str) -> EventEnvelope:
    """The ``Alarm State Change`` event of one recorded change."""
    detail = {
        "alarmName": change.alarm_name,
        "alarmType": change.alarm_type,
        "state": _state(change.new),
        "previousState": _state(change.old),
        "configuration": _configuration(alarm),
    }
    return EventEnvelope(source=ALARMS_SOURCE, detail_type=ALARM_STATE_CHANGE, detail=detail,
                         account=workspace, resources=(alarm_arn(workspace, change.alarm_name),),
                         time_ms=change.timestamp)


class AlarmNotifications:
    """An alarm change listener: the change goes on the bus, and to the alarm's actions."""

    def __init__(self, notifier: Notifier, workspace: str) -> None:
        self.notifier = notifier
        self.workspace = workspace

    @property
    def store(self) -> Store:
        return self.notifier.store

    def __call__(self, change: StateChange, alarm: MetricAlarm | CompositeAlarm) -> None:
        event = alarm_state_change(change, alarm, self.workspace)
        direct: dict[str, str] = {}
        outcomes: list[tuple[str, str | None]] = []
        for action in alarm.actions_for(change.new.value):
            try:
                direct.update(self._resolve(action))
                outcomes.append((action, None))
            except PipetrailError as exc:
                outcomes.append((action, str(exc)))
        try:
            self.notifier.publish(event, direct)
        except PipetrailError as exc:
            outcomes = [(a, error or f"could not queue the event: {exc}")
                        for a, error in outcomes]
        for action, error in outcomes:
            self._history(change, action, error)

    def _resolve(self, action: str) -> dict[str, str]:
        """The targets (name -> origin ARN) an action names; NotFoundError otherwise."""
        parsed = parse_events_arn(action)
        if parsed is None:
            raise NotFoundError(f"{action!r} is not a Pipetrail events target or rule ARN")
        workspace, kind, name = parsed
        if workspace != self.workspace:
            raise NotFoundError(f"{action!r} is in workspace {workspace!r}, not "
                                f"{self.workspace!r}")
        if kind == "target":
            self.store.get_target(name)
            return {name: action}
        rule = self.store.get_rule(name)
        if rule.state == DISABLED:
            raise NotFoundError(f"rule {name!r} is disabled")
        return dict.fromkeys(rule.targets, action)

    def _history(self, change: StateChange, action: str, error: str | None) -> None:
        if error is None:
            summary = f"Successfully queued action {action}"
            data: dict[str, Any] = {"actionState": "Succeeded"}
        else:
            summary = f"Failed to execute action {action}. Received error: \"{error}\""
            data = {"actionState": "Failed", "error": error}
        data.update({"stateUpdateTimestamp": change.timestamp, "notificationResource": action})
        item = HistoryItem(alarm_name=change.alarm_name, alarm_type=change.alarm_type,
                           timestamp=change.timestamp, item_type="Action", summary=summary,
                           data=orjson.dumps(data).decode())
        with contextlib.suppress(PipetrailError):
            self.store.add_alarm_history(item)
