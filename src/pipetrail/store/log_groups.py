"""Log groups (with their retention policy) and log streams; expiring old events.

Groups and streams are created by the first event written to them (see
:mod:`pipetrail.store.logs`) or explicitly (``create_log_group``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import LargeBinary, cast, delete, func, insert, select, update

from pipetrail.model.errors import NotFoundError, ValidationError
from pipetrail.model.log_groups import ExpiredEvents, LogGroup, LogStream, expiry_cutoff
from pipetrail.store import schema as t
from pipetrail.store.base import MAX_PAGE, StoreBase

# Events deleted per transaction while expiring, so writers are never held up for long.
EXPIRE_BATCH = 5_000


class LogGroupsStore(StoreBase):
    def create_log_group(self, name: str, created_on: int,
                         retention_days: int | None = None) -> None:
        with self._write() as conn:
            exists = conn.execute(select(t.log_groups.c.name)
                                  .where(t.log_groups.c.name == name)).first()
            if exists is not None:
                raise ValidationError(f"log group {name!r} already exists")
            conn.execute(insert(t.log_groups).values(name=name, created_on=created_on,
                                                     retention_days=retention_days))

    def get_log_group(self, name: str) -> LogGroup:
        found = self.describe_log_groups(names=[name])
        if not found:
            raise NotFoundError(f"no log group named {name!r}")
        return found[0]

    def describe_log_groups(self, prefix: str | None = None, names: Sequence[str] | None = None,
                            limit: int = MAX_PAGE) -> list[LogGroup]:
        """Groups by name, with stored totals and metric filter counts."""
        g, s, f = t.log_groups.c, t.log_streams.c, t.metric_filters.c
        totals = (select(s.group_name, func.sum(s.stored_events).label("events"),
                         func.sum(s.stored_bytes).label("bytes"))
                  .group_by(s.group_name).subquery())
        filters = (select(f.group_name, func.count().label("filters"))
                   .group_by(f.group_name).subquery())
        query = (select(g.name, g.created_on, g.retention_days, totals.c.events,
                        totals.c.bytes, filters.c.filters)
                 .outerjoin(totals, totals.c.group_name == g.name)
                 .outerjoin(filters, filters.c.group_name == g.name)
                 .order_by(g.name).limit(min(limit, MAX_PAGE)))
        if prefix:
            query = query.where(g.name >= prefix, g.name < prefix + "\uffff")
        if names is not None:
            query = query.where(g.name.in_(list(names)))
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [LogGroup(name=r.name, created_on=r.created_on, retention_days=r.retention_days,
                         stored_events=int(r.events or 0), stored_bytes=int(r.bytes or 0),
                         metric_filter_count=int(r.filters or 0)) for r in rows]

    def set_retention(self, name: str, days: int | None) -> None:
        """Set (or with None, remove) a group's retention policy."""
        with self._write() as conn:
            result = conn.execute(update(t.log_groups).where(t.log_groups.c.name == name)
                                  .values(retention_days=days))
        if not result.rowcount:
            raise NotFoundError(f"no log group named {name!r}")

    def describe_log_streams(self, group: str, prefix: str | None = None,
                             order_by: str = "name", descending: bool = False,
                             limit: int = 50) -> list[LogStream]:
        """Streams of a group by name, or by last event time (``order_by="lastEvent"``)."""
        self.get_log_group(group)
        c = t.log_streams.c
        query = select(t.log_streams).where(c.group_name == group)
        if prefix:
            query = query.where(c.stream_name >= prefix, c.stream_name < prefix + "\uffff")
        key = (c.last_event, c.stream_name) if order_by == "lastEvent" else (c.stream_name,)
        query = query.order_by(*(k.desc() if descending else k for k in key))
        with self._read() as conn:
            rows = conn.execute(query.limit(min(limit, MAX_PAGE))).all()
        return [_stream_from_row(r) for r in rows]

    def expire_log_events(self, now: int, group: str | None = None) -> list[ExpiredEvents]:
        """Delete the events older than their group's retention (of every group with a
        policy, or of ``group``); streams left without events go too."""
        c = t.log_groups.c
        query = select(c.name, c.retention_days).where(c.retention_days.is_not(None))
        if group is not None:
            query = query.where(c.name == group)
        with self._read() as conn:
            policies = conn.execute(query.order_by(c.name)).all()
        return [self._expire_group(name, days, expiry_cutoff(days, now))
                for name, days in policies]

    def _expire_group(self, group: str, days: int, cutoff: int) -> ExpiredEvents:
        e, s = t.log_events.c, t.log_streams.c
        deleted = 0
        while True:
            with self._write() as conn:
                ids = [r[0] for r in conn.execute(
                    select(e.id).where(e.group_name == group, e.timestamp < cutoff)
                    .limit(EXPIRE_BATCH)).all()]  # in (group, timestamp) index order
                if not ids:
                    break
                rows = conn.execute(
                    select(e.stream_name, func.count(), func.sum(self._octets(e.message)))
                    .where(e.id.in_(ids)).group_by(e.stream_name)).all()
                conn.execute(delete(t.log_events).where(e.id.in_(ids)))
                for stream, count, size in rows:
                    conn.execute(update(t.log_streams)
                                 .where(s.group_name == group, s.stream_name == stream)
                                 .values(stored_events=s.stored_events - count,
                                         stored_bytes=s.stored_bytes - int(size or 0)))
                deleted += len(ids)
        with self._write() as conn:
            gone = conn.execute(delete(t.log_streams).where(
                s.group_name == group, s.last_event < cutoff)).rowcount or 0
            spanning = conn.execute(select(s.stream_name).where(
                s.group_name == group, s.first_event < cutoff)).all()
            for (stream,) in spanning:
                first = conn.execute(select(func.min(e.timestamp)).where(
                    e.group_name == group, e.stream_name == stream)).scalar()
                conn.execute(update(t.log_streams)
                             .where(s.group_name == group, s.stream_name == stream)
                             .values(first_event=first))
        return ExpiredEvents(group, days, cutoff, deleted, int(gone))

    def _octets(self, column: Any) -> Any:
        if self.dialect == "postgresql":
            return func.octet_length(column)
        return func.length(cast(column, LargeBinary))


def _stream_from_row(row: Any) -> LogStream:
    return LogStream(group=row.group_name, name=row.stream_name, created_on=row.created_on,
                     first_event=row.first_event, last_event=row.last_event,
                     last_ingestion=row.last_ingestion, stored_events=row.stored_events,
                     stored_bytes=row.stored_bytes)
