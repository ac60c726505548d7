"""The trail's own state: chain heads, delivery progress, delivered digests and log
files, and the public keys that verify digest signatures.

The chain itself lives in ``audit_events`` (``shard``, ``shard_seq``, ``event_hash``;
appended in ``audit.py``). A delivery is planned first (``pending``, committed before
anything is written to the archive) and completed after its files are written, so a
delivery cut short is redone with the same names and the same bytes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import and_, select, true, update

from pipetrail.store import schema as t
from pipetrail.store.base import StoreBase

CHAIN_PAGE = 20_000


@dataclass(frozen=True)
class ChainHead:
    shard: str
    last_seq: int
    last_hash: str


@dataclass(frozen=True)
class ChainRow:
    seq: int
    event_id: str
    body: str
    event_hash: str
    event_time: int


@dataclass(frozen=True)
class DeliveryState:
    shard: str
    delivered_seq: int
    digest_count: int
    last_digest_key: str | None
    last_digest_hash: str | None
    last_digest_signature: str | None
    last_digest_file_hash: str | None
    last_digest_end: int | None
    pending: dict[str, Any] | None


@dataclass(frozen=True)
class DigestRow:
    digest_key: str
    shard: str
    digest_no: int
    digest_start: int
    digest_end: int
    hash: str
    file_hash: str
    signature: str


@dataclass(frozen=True)
class LogFileRow:
    log_key: str
    shard: str
    first_seq: int
    last_seq: int
    digest_key: str
    oldest_event: int
    newest_event: int


class TrailStore(StoreBase):
    # -- the chain ---------------------------------------------------------------------

    def chain_heads(self) -> list[ChainHead]:
        h = t.trail_shards.c
        with self._read() as conn:
            rows = conn.execute(select(h.shard, h.last_seq, h.last_hash).order_by(h.shard)).all()
        return [ChainHead(r.shard, int(r.last_seq), r.last_hash) for r in rows]

    def chain_shards(self) -> list[str]:
        """Every shard that has events or a head (a deleted head must not hide a chain)."""
        c = t.audit_events.c
        with self._read() as conn:
            stored = set(conn.execute(select(c.shard).distinct()).scalars())
        return sorted(stored | {h.shard for h in self.chain_heads()})

    def chain_rows(self, shard: str, first_seq: int = 1, last_seq: int | None = None,
                   *, start: int | None = None, end: int | None = None,
                   page: int = CHAIN_PAGE) -> Iterator[ChainRow]:
        """The shard's events from ``first_seq`` in chain order, read a page at a time
        (each page its own short read). ``start``/``end`` (ms) narrow by event time."""
        c = t.audit_events.c
        after = first_seq - 1
        while True:
            conditions = [c.shard == shard, c.shard_seq > after]
            if last_seq is not None:
                conditions.append(c.shard_seq <= last_seq)
            if start is not None:
                conditions.append(c.event_time >= start)
            if end is not None:
                conditions.append(c.event_time < end)
            query = (select(c.shard_seq, c.event_id, c.body, c.event_hash, c.event_time)
                     .where(and_(*conditions)).order_by(c.shard_seq).limit(page))
            with self._read() as conn:
                rows = conn.execute(query).all()
            for row in rows:
                yield ChainRow(int(row[0]), row[1], row[2], row[3], int(row[4]))
            if len(rows) < page:
                return
            after = int(rows[-1][0])

    def chain_hashes(self, shard: str, page: int = CHAIN_PAGE, *, first: int = 1,
                     last: int | None = None) -> Iterator[list[tuple[int, str, str]]]:
        """The chain (from event ``first``, up to ``last``) as pages of ``(seq, body,
        event_hash)`` tuples, in order: the validator's fast path (driver-level reads, no
        objects per row)."""
        placeholder = "%s" if self.dialect == "postgresql" else "?"
        bound = "" if last is None else f" AND shard_seq <= {int(last)}"
        query = ("SELECT shard_seq, body, event_hash FROM audit_events WHERE shard = "
                 f"{placeholder} AND shard_seq > {placeholder}{bound} ORDER BY shard_seq "
                 f"LIMIT {page}")
        after = first - 1
        while True:
            with self._read() as conn:
                driver = conn.connection.driver_connection
                assert driver is not None
                cursor = driver.cursor()
                try:
                    cursor.execute(query, (shard, after))
                    rows = cursor.fetchall()
                finally:
                    cursor.close()
            if rows:
                yield rows
            if len(rows) < page:
                return
            after = int(rows[-1][0])

    def chain_row(self, shard: str, seq: int) -> ChainRow | None:
        return next(self.chain_rows(shard, seq, seq), None)

    def event_position(self, event_id: str) -> tuple[str, int] | None:
        """The shard and number of an event in its chain."""
        c = t.audit_events.c
        with self._read() as conn:
            row = conn.execute(select(c.shard, c.shard_seq).where(c.event_id == event_id)).first()
        return None if row is None else (row[0], int(row[1]))

    # -- delivery ----------------------------------------------------------------------

    def trail_delivery_state(self, shard: str) -> DeliveryState:
        d = t.trail_delivery.c
        with self._read() as conn:
            row = conn.execute(select(t.trail_delivery).where(d.shard == shard)).first()
        if row is None:
            return DeliveryState(shard, 0, 0, None, None, None, None, None, None)
        return DeliveryState(
            row.shard, int(row.delivered_seq), int(row.digest_count), row.last_digest_key,
            row.last_digest_hash, row.last_digest_signature, row.last_digest_file_hash,
            None if row.last_digest_end is None else int(row.last_digest_end),
            orjson.loads(row.pending) if row.pending else None)

    def plan_trail_delivery(self, shard: str, digest_count: int, plan: dict[str, Any]) -> bool:
        """Record the plan of the next delivery, unless another was planned or made
        since ``digest_count`` was read. Call while holding the shard's delivery lease."""
        d = t.trail_delivery.c
        with self._write() as conn:
            conn.execute(self._insert_ignore(t.trail_delivery).values(
                shard=shard, delivered_seq=0, digest_count=0))
            done = conn.execute(update(t.trail_delivery).where(
                d.shard == shard, d.digest_count == digest_count, d.pending.is_(None),
            ).values(pending=orjson.dumps(plan).decode()))
            return bool(done.rowcount)

    def complete_trail_delivery(self, shard: str, digest: DigestRow, delivered_seq: int,
                          log_files: Sequence[LogFileRow]) -> None:
        """Record a delivered digest and its log files; the plan is done."""
        d = t.trail_delivery.c
        with self._write() as conn:
            conn.execute(self._insert_ignore(t.trail_digests).values(**digest.__dict__))
            if log_files:
                conn.execute(self._insert_ignore(t.trail_log_files),
                             [f.__dict__ for f in log_files])
            conn.execute(update(t.trail_delivery).where(d.shard == shard).values(
                delivered_seq=delivered_seq, digest_count=digest.digest_no,
                last_digest_key=digest.digest_key, last_digest_hash=digest.hash,
                last_digest_signature=digest.signature, last_digest_file_hash=digest.file_hash,
                last_digest_end=digest.digest_end,
                pending=None))

    def delivered_shards(self) -> list[str]:
        """The shards that have delivered (a digest even when their events are gone)."""
        with self._read() as conn:
            return sorted(conn.execute(select(t.trail_delivery.c.shard)).scalars())

    def trail_digests(self, shard: str | None = None, start: int | None = None,
                      end: int | None = None) -> list[DigestRow]:
        """Delivered digests, oldest first; ``start``/``end`` (ms) bound digestEndTime."""
        g = t.trail_digests.c
        conditions = []
        if shard is not None:
            conditions.append(g.shard == shard)
        if start is not None:
            conditions.append(g.digest_end >= start)
        if end is not None:
            conditions.append(g.digest_end <= end)
        query = select(t.trail_digests).where(and_(true(), *conditions)).order_by(g.shard,
                                                                           g.digest_no)
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [DigestRow(r.digest_key, r.shard, int(r.digest_no), int(r.digest_start),
                          int(r.digest_end), r.hash, r.file_hash, r.signature) for r in rows]

    def trail_log_file_for(self, shard: str, seq: int) -> LogFileRow | None:
        """The delivered log file that holds event ``seq`` of ``shard``."""
        f = t.trail_log_files.c
        query = (select(t.trail_log_files)
                 .where(f.shard == shard, f.last_seq >= seq, f.first_seq <= seq)
                 .order_by(f.last_seq).limit(1))
        with self._read() as conn:
            row = conn.execute(query).first()
        return None if row is None else _log_file(row)

    def trail_log_files(self, shard: str | None = None) -> list[LogFileRow]:
        f = t.trail_log_files.c
        query = select(t.trail_log_files)
        if shard is not None:
            query = query.where(f.shard == shard)
        with self._read() as conn:
            rows = conn.execute(query.order_by(f.shard, f.first_seq)).all()
        return [_log_file(r) for r in rows]

    # -- signing keys ------------------------------------------------------------------

    def put_public_key(self, fingerprint: str, public_key: str, valid_from: int) -> None:
        with self._write() as conn:
            conn.execute(self._insert_ignore(t.trail_public_keys).values(
                fingerprint=fingerprint, public_key=public_key, valid_from=valid_from))

    def public_keys(self) -> dict[str, str]:
        """Every signing key's public half (PEM), by fingerprint."""
        k = t.trail_public_keys.c
        with self._read() as conn:
            rows = conn.execute(select(k.fingerprint, k.public_key)).all()
        return {r[0]: r[1] for r in rows}


def _log_file(row: Any) -> LogFileRow:
    return LogFileRow(row.log_key, row.shard, int(row.first_seq), int(row.last_seq),
                      row.digest_key, int(row.oldest_event), int(row.newest_event))
