"""Log events, per log group and stream, in write order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, func, insert, or_, select

from pipetrail.model.clock import now_ms
from pipetrail.model.logs import LogEvent
from pipetrail.store import schema as t
from pipetrail.store.base import MAX_PAGE, StoreBase


def log_rows(events: Sequence[LogEvent], ingested: int) -> list[dict[str, Any]]:
    return [
        {"group_name": e.group, "stream_name": e.stream, "timestamp": e.timestamp,
         "ingestion_time": e.ingestion_time or ingested, "message": e.message}
        for e in events
    ]


class LogsStore(StoreBase):
    def append_log_events(self, events: Sequence[LogEvent]) -> None:
        if not events:
            return
        rows = log_rows(events, now_ms())
        with self._write() as conn:
            conn.execute(insert(t.log_events), rows)

    def get_log_events(self, group: str, stream: str | None = None, *,
                       after_id: int | None = None, start: int | None = None,
                       end: int | None = None, limit: int = 1000,
                       newest: bool = False) -> list[LogEvent]:
        """Events of a group (and stream) in write order; ``newest`` takes the last ones."""
        c = t.log_events.c
        query = select(t.log_events).where(c.group_name == group)
        if stream is not None:
            query = query.where(c.stream_name == stream)
        if after_id is not None:
            query = query.where(c.id > after_id)
        if start is not None:
            query = query.where(c.timestamp >= start)
        if end is not None:
            query = query.where(c.timestamp < end)
        query = query.order_by(c.id.desc() if newest else c.id).limit(min(limit, MAX_PAGE))
        with self._read() as conn:
            rows = list(conn.execute(query).all())
        if newest:
            rows.reverse()
        return [_log_from_row(r) for r in rows]

    def read_streams(self, streams: Sequence[tuple[str, str]], *, after_id: int | None = None,
                     limit: int = 1000, newest: bool = False) -> list[LogEvent]:
        """Events of several (group, stream) pairs merged in write order."""
        if not streams:
            return []
        c = t.log_events.c
        which = or_(*(and_(c.group_name == g, c.stream_name == s) for g, s in streams))
        query = select(t.log_events).where(which)
        if after_id is not None:
            query = query.where(c.id > after_id)
        query = query.order_by(c.id.desc() if newest else c.id).limit(min(limit, MAX_PAGE))
        with self._read() as conn:
            rows = list(conn.execute(query).all())
        if newest:
            rows.reverse()
        return [_log_from_row(r) for r in rows]

    def count_log_events(self, group: str, stream: str) -> int:
        c = t.log_events.c
        with self._read() as conn:
            return int(conn.execute(
                select(func.count()).where(c.group_name == group, c.stream_name == stream)
            ).scalar_one())


def _log_from_row(row: Any) -> LogEvent:
    return LogEvent(group=row.group_name, stream=row.stream_name, timestamp=row.timestamp,
                    message=row.message, ingestion_time=row.ingestion_time, event_id=row.id)
