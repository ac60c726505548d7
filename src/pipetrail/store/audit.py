"""Audit events and the resources they name."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Select, and_, func, insert, select
from sqlalchemy.engine import Connection

from pipetrail.model.audit import AuditEvent
from pipetrail.store import schema as t
from pipetrail.store.base import MAX_PAGE, StoreBase


@dataclass(frozen=True)
class AuditQuery:
    """Filters of a trail lookup; every given filter must hold (AND)."""

    event_name: str | None = None
    user: str | None = None
    resource: str | None = None
    event_source: str | None = None
    category: str | None = None
    dataset: str | None = None
    run_id: str | None = None
    start: int | None = None
    end: int | None = None
    limit: int = 50


def audit_rows(events: Sequence[AuditEvent]
               ) -> tuple[list[dict[str, Any]], dict[str, tuple[int, list[str]]]]:
    """The rows of validated events, and the resources each names (by event id)."""
    rows = []
    for event in events:
        body = event.validate()
        rows.append({
            "event_id": event.event_id, "event_time": event.event_time_ms,
            "event_source": event.event_source, "event_name": event.event_name,
            "event_category": event.event_category, "read_only": event.read_only,
            "principal": event.identity.user_name, "error_code": event.error_code,
            "dataset": event.dataset, "run_id": event.run_id, "body": body.decode(),
        })
    # Each name once per event (a data event names its dataset as a resource too).
    resources = {e.event_id: (e.event_time_ms, list(dict.fromkeys(
                     [r.arn for r in e.resources] + ([e.dataset] if e.dataset else []))))
                 for e in events}
    return rows, resources


class AuditStore(StoreBase):
    def append_audit_events(self, events: Sequence[AuditEvent]) -> int:
        """Store events (validated first, all or none); an event id already stored is
        skipped, so delivering the same event twice stores it once. Returns how many
        were new."""
        if not events:
            return 0
        rows, resources = audit_rows(events)
        with self._write() as conn:
            return self._insert_audit(conn, rows, resources)

    def _insert_audit(self, conn: Connection, rows: list[dict[str, Any]],
                      resources: dict[str, tuple[int, list[str]]]) -> int:
        stmt = self._insert_ignore(t.audit_events).returning(
            t.audit_events.c.seq, t.audit_events.c.event_id)
        inserted = conn.execute(stmt, rows).all()
        resource_rows = [
            {"event_seq": seq, "resource": name, "event_time": resources[event_id][0]}
            for seq, event_id in inserted
            for name in resources[event_id][1]
        ]
        if resource_rows:
            conn.execute(insert(t.audit_resources), resource_rows)
        return len(inserted)

    def lookup_audit_events(self, query: AuditQuery) -> list[dict[str, Any]]:
        """Matching events, newest first, as CloudTrail-shaped records."""
        c = t.audit_events.c
        stmt: Select[Any] = select(c.body)
        conditions = []
        if query.event_name:
            conditions.append(c.event_name == query.event_name)
        if query.user:
            conditions.append(c.principal == query.user)
        if query.event_source:
            conditions.append(c.event_source == query.event_source)
        if query.category:
            conditions.append(c.event_category == query.category)
        if query.dataset:
            conditions.append(c.dataset == query.dataset)
        if query.run_id:
            conditions.append(c.run_id == query.run_id)
        if query.start is not None:
            conditions.append(c.event_time >= query.start)
        if query.end is not None:
            conditions.append(c.event_time < query.end)
        if query.resource:
            r = t.audit_resources.c
            stmt = stmt.join(t.audit_resources, r.event_seq == c.seq)
            conditions.append(r.resource == query.resource)
        stmt = stmt.where(and_(*conditions)) if conditions else stmt
        stmt = stmt.order_by(c.event_time.desc(), c.seq.desc()).limit(min(query.limit, MAX_PAGE))
        with self._read() as conn:
            bodies = conn.execute(stmt).scalars().all()
        return [orjson.loads(b) for b in bodies]

    def count_audit_events(self) -> int:
        with self._read() as conn:
            return int(conn.execute(select(func.count()).select_from(t.audit_events)).scalar_one())
