"""Audit events and the resources they name."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Select, and_, func, insert, select, update
from sqlalchemy.engine import Connection

from pipetrail.model.audit import AuditEvent
from pipetrail.model.chain import GENESIS
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


ID_CHUNK = 500
AUDIT_COLUMNS = ("event_id", "event_time", "event_source", "event_name", "event_category",
                 "read_only", "principal", "error_code", "dataset", "run_id", "body", "shard",
                 "shard_seq", "event_hash")


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
        """Append the events not stored yet to this store's chain (in the caller's
        write transaction, which holds the chain's head until it commits)."""
        fresh = self._not_stored(conn, rows)
        if not fresh:
            return 0
        shard = self.trail_shard
        last_seq, last_hash = self._lock_chain_head(conn, shard)
        sha256 = hashlib.sha256
        digest = bytes.fromhex(last_hash)
        for row in fresh:
            last_seq += 1
            digest = sha256(digest + row["body"].encode()).digest()
            row["shard"], row["shard_seq"], row["event_hash"] = shard, last_seq, digest.hex()
        inserted = self._insert_rows(conn, fresh)
        conn.execute(update(t.trail_shards).where(t.trail_shards.c.shard == shard)
                     .values(last_seq=last_seq, last_hash=digest.hex()))
        resource_rows = [
            (seq, name, resources[event_id][0])
            for seq, event_id in inserted
            for name in resources[event_id][1]
        ]
        if resource_rows:
            conn.exec_driver_sql(self._sql("INSERT INTO audit_resources (event_seq, resource, "
                                           "event_time) VALUES (?, ?, ?)"), resource_rows)
        return len(inserted)

    def _sql(self, text: str) -> str:
        """Driver-level SQL (the hot path skips SQLAlchemy's per-row work)."""
        return text.replace("?", "%s") if self.dialect == "postgresql" else text

    def _insert_rows(self, conn: Connection, rows: list[dict[str, Any]]
                     ) -> list[tuple[int, str]]:
        """Insert the rows; their ``seq`` and event id, in order. SQLite: the writer
        holds the database, so the numbers are known before the insert and the rows go
        in with one driver-level executemany."""
        if self.dialect != "sqlite":
            stmt = insert(t.audit_events).returning(t.audit_events.c.seq,
                                                    t.audit_events.c.event_id)
            return [(int(seq), event_id) for seq, event_id in conn.execute(stmt, rows).all()]
        # As SQLite numbers an INTEGER PRIMARY KEY: one more than the largest.
        top = conn.exec_driver_sql("SELECT max(seq) FROM audit_events").scalar()
        first = int(top or 0) + 1
        columns = ("seq", *AUDIT_COLUMNS)
        conn.exec_driver_sql(
            f"INSERT INTO audit_events ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})",
            [(first + n, *(row[c] for c in AUDIT_COLUMNS)) for n, row in enumerate(rows)])
        return [(first + n, row["event_id"]) for n, row in enumerate(rows)]

    def _not_stored(self, conn: Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The rows whose event id is neither stored nor earlier in ``rows``."""
        unique: dict[str, dict[str, Any]] = {}
        for row in rows:
            unique.setdefault(row["event_id"], row)
        ids = list(unique)
        for start in range(0, len(ids), ID_CHUNK):
            chunk = ids[start:start + ID_CHUNK]
            query = self._sql("SELECT event_id FROM audit_events WHERE event_id IN "
                              f"({', '.join('?' for _ in chunk)})")
            for (known,) in conn.exec_driver_sql(query, tuple(chunk)):
                unique.pop(known, None)
        return list(unique.values())

    def _lock_chain_head(self, conn: Connection, shard: str) -> tuple[int, str]:
        """The head of ``shard``'s chain, locked until the transaction ends (SQLite's
        writers are serialised by ``BEGIN IMMEDIATE``; PostgreSQL locks the row)."""
        h = t.trail_shards.c
        conn.execute(self._insert_ignore(t.trail_shards).values(
            shard=shard, last_seq=0, last_hash=GENESIS))
        query = select(h.last_seq, h.last_hash).where(h.shard == shard)
        if self.dialect == "postgresql":
            query = query.with_for_update()
        last_seq, last_hash = conn.execute(query).one()
        return int(last_seq), str(last_hash)

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
