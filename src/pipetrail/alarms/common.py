"""What metric and composite alarms share: their actions and the head of their JSON."""

from __future__ import annotations

from typing import Any, Protocol

from pipetrail.alarms.state import AlarmState, StateValue
from pipetrail.model.arn import alarm_arn
from pipetrail.model.clock import iso_from_ms


class AlarmLike(Protocol):
    name: str
    description: str
    actions_enabled: bool
    alarm_actions: list[str]
    ok_actions: list[str]
    insufficient_data_actions: list[str]
    state: AlarmState | None
    configuration_updated: int | None


def actions_for(alarm: AlarmLike, value: StateValue) -> list[str]:
    """The actions to run on a transition into ``value`` (none when actions are off)."""
    if not alarm.actions_enabled:
        return []
    if value is StateValue.ALARM:
        return list(alarm.alarm_actions)
    if value is StateValue.OK:
        return list(alarm.ok_actions)
    return list(alarm.insufficient_data_actions)


def head_json(alarm: AlarmLike, workspace: str | None, extra: dict[str, Any] | None = None
              ) -> dict[str, Any]:
    """Name, ARN, description, (``extra``), configuration time, actions and state."""
    data: dict[str, Any] = {"AlarmName": alarm.name}
    if workspace is not None:
        data["AlarmArn"] = alarm_arn(workspace, alarm.name)
    data["AlarmDescription"] = alarm.description
    data.update(extra or {})
    if alarm.configuration_updated is not None:
        data["AlarmConfigurationUpdatedTimestamp"] = iso_from_ms(alarm.configuration_updated)
    data.update({
        "ActionsEnabled": alarm.actions_enabled,
        "OKActions": list(alarm.ok_actions),
        "AlarmActions": list(alarm.alarm_actions),
        "InsufficientDataActions": list(alarm.insufficient_data_actions),
    })
    if alarm.state is not None:
        data.update(alarm.state.to_json())
    return data
