"""Evaluating the stored alarms against the stored metrics, and recording their changes.

Several evaluators may run at once (concurrent ``pipetrail run`` processes, servers):
a state change is stored only if the alarm's state is still the one the evaluator read,
so each transition is recorded — and acted on — once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import orjson

from pipetrail.alarms.anomaly import AnomalyModel, train
from pipetrail.alarms.composite import CompositeAlarm, evaluate_composite
from pipetrail.alarms.definition import MetricAlarm
from pipetrail.alarms.evaluate import evaluate, evaluation_window, slot_starts
from pipetrail.alarms.state import AlarmState, Evaluation, StateChange, StateValue
from pipetrail.metrics.statistics import MAX_DATAPOINTS, by_timestamp, get_statistics
from pipetrail.model.clock import iso_from_ms, now_ms
from pipetrail.store.alarms import HistoryItem, StoredAlarm

if TYPE_CHECKING:
    from pipetrail.store import Store

Alarm = MetricAlarm | CompositeAlarm
ChangeListener = Callable[[StateChange, Alarm], None]

BAND_TRAINING_MS = 14 * 86_400_000
BAND_RETRAIN_MS = 15 * 60_000
COMPOSITE_PASSES = 10


def alarm_from_stored(stored: StoredAlarm) -> Alarm:
    alarm: Alarm
    if stored.kind == "composite":
        alarm = CompositeAlarm.from_json(stored.definition)
    else:
        alarm = MetricAlarm.from_json(stored.definition)
    alarm.state = state_of(stored)
    return alarm


def state_of(stored: StoredAlarm) -> AlarmState:
    return AlarmState(StateValue(stored.state_value), stored.state_reason,
                      stored.state_reason_data, stored.state_updated, stored.state_transitioned)


@dataclass
class AlarmEvaluator:
    store: Store
    listeners: list[ChangeListener] = field(default_factory=list)
    _bands: dict[str, tuple[int, AnomalyModel]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def evaluate_all(self, now: int | None = None,
                     only: Callable[[MetricAlarm], bool] | None = None) -> list[StateChange]:
        """Evaluate every metric alarm (those ``only`` accepts), then the composite
        alarms; returns the state changes this evaluator recorded."""
        at = now_ms() if now is None else now
        with self._lock:
            stored = self.store.list_alarms()
            changes: list[StateChange] = []
            for item in stored:
                if item.kind != "metric":
                    continue
                alarm = alarm_from_stored(item)
                assert isinstance(alarm, MetricAlarm)
                if only is not None and not only(alarm):
                    continue
                change = self._apply(item, alarm, self.evaluate_metric(alarm, at), at)
                if change is not None:
                    changes.append(change)
            composites = [s for s in stored if s.kind == "composite"]
            if composites and (changes or only is None):
                changes.extend(self._evaluate_composites(at))
            return changes

    def evaluate_metric(self, alarm: MetricAlarm, now: int) -> Evaluation:
        start, end = evaluation_window(alarm, now)
        datums = self.store.get_metric_series(alarm.namespace, alarm.metric_name,
                                              alarm.dimensions, start, end)
        points = get_statistics(datums, start=start, end=end, period=alarm.period,
                                statistics=[alarm.stat], unit=alarm.unit)
        bands = None
        if alarm.operator.uses_band:
            model = self._band_model(alarm, now)
            bands = model.bands(slot_starts(alarm, now))
        previous = alarm.state or AlarmState.initial(now)
        return evaluate(alarm, by_timestamp(points), previous, now, bands=bands)

    def _band_model(self, alarm: MetricAlarm, now: int) -> AnomalyModel:
        cached = self._bands.get(alarm.name)
        if cached is not None and now - cached[0] < BAND_RETRAIN_MS:
            return cached[1]
        period_ms = alarm.period * 1000
        span = min(BAND_TRAINING_MS, period_ms * MAX_DATAPOINTS)
        end = now - now % period_ms
        datums = self.store.get_metric_series(alarm.namespace, alarm.metric_name,
                                              alarm.dimensions, end - span, end)
        points = get_statistics(datums, start=end - span, end=end, period=alarm.period,
                                statistics=[alarm.stat], unit=alarm.unit)
        history = {p.timestamp: v for p in points if (v := p.value(alarm.stat)) is not None}
        model = train(history, width=alarm.band_width or 2.0)
        self._bands[alarm.name] = (now, model)
        return model

    def _evaluate_composites(self, now: int) -> list[StateChange]:
        changes: list[StateChange] = []
        for _ in range(COMPOSITE_PASSES):
            stored = self.store.list_alarms()
            states = {s.name: state_of(s) for s in stored}
            changed_this_pass = False
            for item in stored:
                if item.kind != "composite":
                    continue
                alarm = alarm_from_stored(item)
                assert isinstance(alarm, CompositeAlarm)
                previous = alarm.state or AlarmState.initial(now)
                evaluation = evaluate_composite(alarm, states, previous, now)
                change = self._apply(item, alarm, evaluation, now)
                if change is not None:
                    changes.append(change)
                    changed_this_pass = True
            if not changed_this_pass:
                break
        return changes

    def _apply(self, stored: StoredAlarm, alarm: Alarm, evaluation: Evaluation, now: int
               ) -> StateChange | None:
        change = evaluation.change
        if change is None:
            return None
        item = change.to_json()
        history = HistoryItem(alarm_name=change.alarm_name, alarm_type=change.alarm_type,
                              timestamp=change.timestamp, item_type="StateUpdate",
                              summary=change.summary, data=item["HistoryData"])
        state = evaluation.state
        stored_ok = self.store.set_alarm_state(
            stored.name, stored.state_updated, state.value.value, state.reason,
            state.reason_data, state.timestamp, state.transitioned, history)
        if not stored_ok:
            return None
        alarm.state = state
        for listener in self.listeners:
            listener(change, alarm)
        return change


def history_json(item: HistoryItem) -> dict[str, object]:
    """A DescribeAlarmHistory item."""
    return {"AlarmName": item.alarm_name, "AlarmType": item.alarm_type,
            "Timestamp": iso_from_ms(item.timestamp), "HistoryItemType": item.item_type,
            "HistorySummary": item.summary, "HistoryData": item.data}


def configuration_item(name: str, alarm_type: str, now: int, summary: str,
                       definition: dict[str, object]) -> HistoryItem:
    return HistoryItem(alarm_name=name, alarm_type=alarm_type, timestamp=now,
                       item_type="ConfigurationUpdate", summary=summary,
                       data=orjson.dumps({"version": "1.0", "type": "Update",
                                          "updatedAlarm": definition}).decode())
