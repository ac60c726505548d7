"""Alarm states, the state an alarm is in, and the state-change record kept as history."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from pipetrail.model.clock import iso_from_ms
from pipetrail.model.errors import ValidationError

INITIAL_REASON = "Unchecked: Initial alarm creation"


class StateValue(enum.StrEnum):
    OK = "OK"
    ALARM = "ALARM"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


def parse_state_value(text: str) -> StateValue:
    try:
        return StateValue(text)
    except ValueError:
        raise ValidationError(
            f"unknown alarm state {text!r}: use OK, ALARM or INSUFFICIENT_DATA"
        ) from None


def reason_time(ms: int) -> str:
    """``2024-04-23T20:44:00.000+0000``: the timestamp form inside CloudWatch reason data."""
    dt = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}+0000"


@dataclass(frozen=True)
class AlarmState:
    """The state an alarm is in: value, human reason, machine reason data, and times (ms).

    ``timestamp`` is when the state was last updated, ``transitioned`` when the value last
    changed (CloudWatch's StateUpdatedTimestamp and StateTransitionedTimestamp).
    """

    value: StateValue
    reason: str
    reason_data: dict[str, Any] | None
    timestamp: int
    transitioned: int | None = None

    @classmethod
    def initial(cls, now: int) -> AlarmState:
        """The state of a newly created alarm."""
        return cls(StateValue.INSUFFICIENT_DATA, INITIAL_REASON, None, now, now)

    def reason_data_text(self) -> str | None:
        """The reason data as CloudWatch gives it: a JSON string."""
        if self.reason_data is None:
            return None
        return orjson.dumps(self.reason_data).decode()

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "StateValue": self.value.value,
            "StateReason": self.reason,
            "StateUpdatedTimestamp": iso_from_ms(self.timestamp),
        }
        if self.reason_data is not None:
            data["StateReasonData"] = self.reason_data_text()
        if self.transitioned is not None:
            data["StateTransitionedTimestamp"] = iso_from_ms(self.transitioned)
        return data


@dataclass(frozen=True)
class StateChange:
    """One history item: the alarm went from ``old`` to ``new`` at ``timestamp`` (ms)."""

    alarm_name: str
    alarm_type: str  # "MetricAlarm" or "CompositeAlarm"
    timestamp: int
    old: AlarmState
    new: AlarmState

    @property
    def summary(self) -> str:
        return f"Alarm updated from {self.old.value.value} to {self.new.value.value}"

    def history_data(self) -> dict[str, Any]:
        def side(state: AlarmState) -> dict[str, Any]:
            data: dict[str, Any] = {"stateValue": state.value.value, "stateReason": state.reason}
            if state.reason_data is not None:
                data["stateReasonData"] = state.reason_data
            return data

        return {"version": "1.0", "oldState": side(self.old), "newState": side(self.new)}

    def to_json(self) -> dict[str, Any]:
        """A DescribeAlarmHistory item (HistoryData is a JSON string, as in CloudWatch)."""
        return {
            "AlarmName": self.alarm_name,
            "AlarmType": self.alarm_type,
            "Timestamp": iso_from_ms(self.timestamp),
            "HistoryItemType": "StateUpdate",
            "HistorySummary": self.summary,
            "HistoryData": orjson.dumps(self.history_data()).decode(),
        }


@dataclass(frozen=True)
class Evaluation:
    """What one evaluation concluded, and the state the alarm is in afterwards.

    ``value``/``reason``/``reason_data`` describe this evaluation even when the alarm keeps
    its state (for example missing data that is ignored). ``state`` is the alarm's state
    after it: a new state when the value changed, else the previous one untouched (as in
    CloudWatch, the reason of a state is the reason of its transition). ``change`` is the
    history item to record and act on, or None.
    """

    value: StateValue
    reason: str
    reason_data: dict[str, Any] | None
    state: AlarmState
    change: StateChange | None

    @property
    def changed(self) -> bool:
        return self.change is not None


def conclude(
    *,
    alarm_name: str,
    alarm_type: str,
    previous: AlarmState,
    value: StateValue,
    reason: str,
    reason_data: dict[str, Any] | None,
    now: int,
) -> Evaluation:
    """Turn an evaluation outcome into the resulting state and, on a change, the history item."""
    if value == previous.value:
        return Evaluation(value, reason, reason_data, previous, None)
    new = AlarmState(value, reason, reason_data, now, now)
    change = StateChange(alarm_name, alarm_type, now, previous, new)
    return Evaluation(value, reason, reason_data, new, change)
