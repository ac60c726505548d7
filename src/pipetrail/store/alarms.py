"""Alarms: their definitions (CloudWatch JSON), current state, and history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import delete, insert, select, update

from pipetrail.model.errors import NotFoundError
from pipetrail.store import schema as t
from pipetrail.store.base import MAX_PAGE, StoreBase


@dataclass
class StoredAlarm:
    name: str
    kind: str  # "metric" or "composite"
    definition: dict[str, Any]
    state_value: str
    state_reason: str
    state_reason_data: dict[str, Any] | None
    state_updated: int
    state_transitioned: int | None
    updated_on: int


@dataclass
class HistoryItem:
    alarm_name: str
    alarm_type: str
    timestamp: int
    item_type: str
    summary: str
    data: str


class AlarmsStore(StoreBase):
    def put_alarm(self, alarm: StoredAlarm) -> bool:
        """Create the alarm, or replace its definition keeping its state (as
        PutMetricAlarm does). True when it was created."""
        c = t.alarms.c
        with self._write() as conn:
            existing = conn.execute(select(c.name).where(c.name == alarm.name)).first()
            if existing is None:
                conn.execute(insert(t.alarms).values(**_alarm_row(alarm)))
                return True
            conn.execute(update(t.alarms).where(c.name == alarm.name).values(
                kind=alarm.kind, definition=orjson.dumps(alarm.definition).decode(),
                updated_on=alarm.updated_on))
            return False

    def get_alarm(self, name: str) -> StoredAlarm:
        with self._read() as conn:
            row = conn.execute(select(t.alarms).where(t.alarms.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"no alarm named {name!r}")
        return _alarm_from_row(row)

    def list_alarms(self, names: Sequence[str] | None = None, prefix: str | None = None,
                    state: str | None = None, kind: str | None = None,
                    limit: int = MAX_PAGE) -> list[StoredAlarm]:
        c = t.alarms.c
        query = select(t.alarms).order_by(c.name)
        if names:
            query = query.where(c.name.in_(list(names)))
        if prefix:
            query = query.where(c.name >= prefix, c.name < prefix + "\uffff")
        if state:
            query = query.where(c.state_value == state)
        if kind:
            query = query.where(c.kind == kind)
        with self._read() as conn:
            rows = conn.execute(query.limit(min(limit, MAX_PAGE))).all()
        return [_alarm_from_row(r) for r in rows]

    def delete_alarms(self, names: Sequence[str]) -> int:
        with self._write() as conn:
            result = conn.execute(delete(t.alarms).where(t.alarms.c.name.in_(list(names))))
            return int(result.rowcount or 0)

    def set_alarm_state(self, name: str, expected_updated: int, value: str, reason: str,
                        reason_data: dict[str, Any] | None, updated: int,
                        transitioned: int | None, history: HistoryItem | None) -> bool:
        """Store a new state only if the alarm's state is still the one read at
        ``expected_updated`` (several evaluators may race); with its history item, in
        one transaction. False when another evaluator got there first."""
        c = t.alarms.c
        with self._write() as conn:
            result = conn.execute(
                update(t.alarms)
                .where(c.name == name, c.state_updated == expected_updated)
                .values(state_value=value, state_reason=reason,
                        state_reason_data=None if reason_data is None
                        else orjson.dumps(reason_data).decode(),
                        state_updated=updated, state_transitioned=transitioned)
            )
            if not result.rowcount:
                return False
            if history is not None:
                conn.execute(insert(t.alarm_history).values(**_history_row(history)))
            return True

    def add_alarm_history(self, item: HistoryItem) -> None:
        with self._write() as conn:
            conn.execute(insert(t.alarm_history).values(**_history_row(item)))

    def get_alarm_history(self, name: str | None = None, item_type: str | None = None,
                          start: int | None = None, end: int | None = None,
                          limit: int = 100) -> list[HistoryItem]:
        c = t.alarm_history.c
        query = select(t.alarm_history).order_by(c.timestamp.desc(), c.id.desc())
        if name:
            query = query.where(c.alarm_name == name)
        if item_type:
            query = query.where(c.item_type == item_type)
        if start is not None:
            query = query.where(c.timestamp >= start)
        if end is not None:
            query = query.where(c.timestamp < end)
        with self._read() as conn:
            rows = conn.execute(query.limit(min(limit, MAX_PAGE))).all()
        return [HistoryItem(r.alarm_name, r.alarm_type, r.timestamp, r.item_type, r.summary,
                            r.data) for r in rows]


def _alarm_row(alarm: StoredAlarm) -> dict[str, Any]:
    return {
        "name": alarm.name, "kind": alarm.kind,
        "definition": orjson.dumps(alarm.definition).decode(),
        "state_value": alarm.state_value, "state_reason": alarm.state_reason,
        "state_reason_data": None if alarm.state_reason_data is None
        else orjson.dumps(alarm.state_reason_data).decode(),
        "state_updated": alarm.state_updated, "state_transitioned": alarm.state_transitioned,
        "updated_on": alarm.updated_on,
    }


def _alarm_from_row(row: Any) -> StoredAlarm:
    return StoredAlarm(
        name=row.name, kind=row.kind, definition=orjson.loads(row.definition),
        state_value=row.state_value, state_reason=row.state_reason,
        state_reason_data=orjson.loads(row.state_reason_data) if row.state_reason_data
        else None,
        state_updated=row.state_updated, state_transitioned=row.state_transitioned,
        updated_on=row.updated_on,
    )


def _history_row(item: HistoryItem) -> dict[str, Any]:
    return {"alarm_name": item.alarm_name, "alarm_type": item.alarm_type,
            "timestamp": item.timestamp, "item_type": item.item_type,
            "summary": item.summary, "data": item.data}
