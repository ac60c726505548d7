"""Log events, per log group and stream, in write order.

Appending events also keeps their log group and stream records current (created on the
first event, with first/last event times and stored counts), in the same transaction.
On PostgreSQL each append notifies the channel that live tails listen on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from pipetrail.model.clock import now_ms
from pipetrail.model.logs import LogEvent
from pipetrail.store import schema as t
from pipetrail.store.base import MAX_PAGE, StoreBase
from pipetrail.store.log_watch import NOTIFY_CHANNEL, LogWatcher, open_watcher

_COLUMNS = ("group_name", "stream_name", "timestamp", "ingestion_time", "message")
_SQLITE_INSERT = (f"INSERT INTO log_events ({', '.join(_COLUMNS)}) "
                  f"VALUES ({', '.join('?' for _ in _COLUMNS)})")


def message_bytes(message: str) -> int:
    """UTF-8 size of a message (what ``storedBytes`` counts)."""
    return len(message) if message.isascii() else len(message.encode("utf-8"))


def log_rows(events: Sequence[LogEvent], ingested: int) -> list[dict[str, Any]]:
    return [
        {"group_name": e.group, "stream_name": e.stream, "timestamp": e.timestamp,
         "ingestion_time": e.ingestion_time or ingested, "message": e.message}
        for e in events
    ]


class LogsStore(StoreBase):
    _known_groups: set[str]

    def __init__(self, engine: Engine, trail_shard: str = "main") -> None:
        super().__init__(engine, trail_shard)
        self._known_groups = set()

    def append_log_events(self, events: Sequence[LogEvent]) -> None:
        if not events:
            return
        ingested = now_ms()
        rows = [(e.group, e.stream, e.timestamp, e.ingestion_time or ingested, e.message)
                for e in events]
        by_stream: dict[tuple[str, str], list[LogEvent]] = {}
        for e in events:
            by_stream.setdefault((e.group, e.stream), []).append(e)
        streams: dict[tuple[str, str], tuple[int, int, int, int]] = {}
        for key, stream_events in by_stream.items():
            stamps = [e.timestamp for e in stream_events]
            streams[key] = (min(stamps), max(stamps), len(stamps),
                            message_bytes("".join(e.message for e in stream_events)))
        with self._write() as conn:
            if self.dialect == "sqlite":  # the driver's executemany, without per-row overhead
                conn.exec_driver_sql(_SQLITE_INSERT, rows)
            else:
                conn.execute(insert(t.log_events), [dict(zip(_COLUMNS, r, strict=True))
                                                    for r in rows])
            groups = sorted({g for g, _ in streams} - self._known_groups)
            if groups:
                conn.execute(self._insert_ignore(t.log_groups),
                             [{"name": g, "created_on": ingested} for g in groups])
            conn.execute(self._stream_upsert(), [
                {"group_name": g, "stream_name": s, "created_on": ingested, "first_event": first,
                 "last_event": last, "last_ingestion": ingested, "stored_events": count,
                 "stored_bytes": size}
                for (g, s), (first, last, count, size) in streams.items()
            ])
            if self.dialect == "postgresql":
                conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})
        self._known_groups.update(groups)  # groups are never deleted: no need to insert again

    def _stream_upsert(self) -> Any:
        c = t.log_streams.c
        least: Any
        greatest: Any
        if self.dialect == "postgresql":
            stmt: Any = postgresql.insert(t.log_streams)
            least, greatest = func.least, func.greatest
        else:
            stmt = sqlite.insert(t.log_streams)
            least, greatest = func.min, func.max
        new = stmt.excluded
        return stmt.on_conflict_do_update(
            index_elements=[c.group_name, c.stream_name],
            set_={
                "first_event": func.coalesce(least(c.first_event, new.first_event),
                                             new.first_event),
                "last_event": func.coalesce(greatest(c.last_event, new.last_event),
                                            new.last_event),
                "last_ingestion": new.last_ingestion,
                "stored_events": c.stored_events + new.stored_events,
                "stored_bytes": c.stored_bytes + new.stored_bytes,
            },
        )

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
                     before_id: int | None = None, limit: int = 1000,
                     newest: bool = False) -> list[LogEvent]:
        """Events of several (group, stream) pairs merged in write order: the first
        ``limit`` after ``after_id``, or (``newest``) the last ``limit`` before
        ``before_id``."""
        if not streams:
            return []
        c = t.log_events.c
        which = or_(*(and_(c.group_name == g, c.stream_name == s) for g, s in streams))
        query = select(t.log_events).where(which)
        if after_id is not None:
            query = query.where(c.id > after_id)
        if before_id is not None:
            query = query.where(c.id < before_id)
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

    def watch_log_events(self, poll: float = 0.005) -> LogWatcher:
        """A watcher whose ``wait(timeout)`` returns once new events may have been stored
        (see :mod:`pipetrail.store.log_watch`). Close it (or use it in ``with``)."""
        return open_watcher(self.engine, poll)


def _log_from_row(row: Any) -> LogEvent:
    return LogEvent(group=row.group_name, stream=row.stream_name, timestamp=row.timestamp,
                    message=row.message, ingestion_time=row.ingestion_time, event_id=row.id)
