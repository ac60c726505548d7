"""The trail's retention policy, legal holds, and the delivered log files that
retention expired; and the reads that query and export plan their sources with.

Retention expires whole delivered log files: the file goes from the archive and its
events from the store, in one recorded step (``trail_expired_files``), so that
validation knows which files and which stretch of each shard's chain are gone on
purpose (see ``pipetrail.trail.retention``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, delete, exists, select, true, update

from pipetrail.model.errors import ConflictError
from pipetrail.store import schema as t
from pipetrail.store.base import StoreBase
from pipetrail.store.trail import LogFileRow, _log_file


@dataclass(frozen=True)
class RetentionPolicy:
    trail: str
    days: int | None
    updated_on: int


@dataclass(frozen=True)
class LegalHold:
    """Events in ``[start, end)`` (either open) naming ``resource`` (if given) are held."""

    trail: str
    name: str
    start: int | None
    end: int | None
    resource: str | None
    reason: str
    created_on: int
    created_by: str


@dataclass(frozen=True)
class ExpiredFile:
    log_key: str
    shard: str
    first_seq: int
    last_seq: int
    oldest_event: int
    newest_event: int
    last_hash: str
    cutoff: int
    expired_on: int
    archive_deleted: bool


@dataclass(frozen=True)
class Expired:
    """What one expiry step removed from the store."""

    files: list[ExpiredFile]
    events: int


class TrailRetentionStore(StoreBase):
    # -- policy ------------------------------------------------------------------------

    def trail_retention(self, trail: str) -> RetentionPolicy | None:
        r = t.trail_retention.c
        with self._read() as conn:
            row = conn.execute(select(t.trail_retention).where(r.trail == trail)).first()
        if row is None:
            return None
        days = None if row.retention_days is None else int(row.retention_days)
        return RetentionPolicy(row.trail, days, int(row.updated_on))

    def put_trail_retention(self, trail: str, days: int | None, now: int) -> None:
        r = t.trail_retention.c
        with self._write() as conn:
            conn.execute(self._insert_ignore(t.trail_retention).values(
                trail=trail, retention_days=days, updated_on=now))
            conn.execute(update(t.trail_retention).where(r.trail == trail)
                         .values(retention_days=days, updated_on=now))

    # -- legal holds -------------------------------------------------------------------

    def put_legal_hold(self, hold: LegalHold) -> None:
        """Add a hold; a hold of the same name must be released first."""
        with self._write() as conn:
            added = conn.execute(self._insert_ignore(t.trail_legal_holds).values(
                trail=hold.trail, name=hold.name, start_time=hold.start, end_time=hold.end,
                resource=hold.resource, reason=hold.reason, created_on=hold.created_on,
                created_by=hold.created_by).returning(t.trail_legal_holds.c.name)).first()
        if added is None:
            raise ConflictError(f"legal hold {hold.name!r} already exists; release it "
                                "first to change it")

    def legal_holds(self, trail: str) -> list[LegalHold]:
        h = t.trail_legal_holds.c
        with self._read() as conn:
            rows = conn.execute(select(t.trail_legal_holds).where(h.trail == trail)
                                .order_by(h.name)).all()
        return [LegalHold(r.trail, r.name, _int(r.start_time), _int(r.end_time), r.resource,
                          r.reason, int(r.created_on), r.created_by) for r in rows]

    def release_legal_hold(self, trail: str, name: str) -> bool:
        h = t.trail_legal_holds.c
        with self._write() as conn:
            done = conn.execute(delete(t.trail_legal_holds)
                                .where(h.trail == trail, h.name == name))
            return bool(done.rowcount)

    def held_positions(self, resource: str, start: int | None, end: int | None
                       ) -> Iterator[tuple[str, int]]:
        """(shard, number) of the events naming ``resource`` in ``[start, end)``."""
        r, e = t.audit_resources.c, t.audit_events.c
        conditions = [r.resource == resource]
        if start is not None:
            conditions.append(r.event_time >= start)
        if end is not None:
            conditions.append(r.event_time < end)
        query = (select(e.shard, e.shard_seq)
                 .select_from(t.audit_resources.join(t.audit_events, e.seq == r.event_seq))
                 .where(and_(*conditions)))
        with self._read() as conn:
            for shard, seq in conn.execute(query):
                yield shard, int(seq)

    # -- delivered files, live and expired ----------------------------------------------

    def live_trail_log_files(self, start: int | None = None, end: int | None = None,
                             before: int | None = None) -> list[LogFileRow]:
        """Delivered log files retention has not expired, by shard and first event;
        ``start``/``end`` keep those with events in ``[start, end)`` (by their oldest
        and newest event), ``before`` those whose newest event is older than it."""
        f, x = t.trail_log_files.c, t.trail_expired_files.c
        conditions = [~exists().where(x.log_key == f.log_key)]
        if start is not None:
            conditions.append(f.newest_event >= start)
        if end is not None:
            conditions.append(f.oldest_event < end)
        if before is not None:
            conditions.append(f.newest_event < before)
        query = select(t.trail_log_files).where(and_(*conditions)).order_by(f.shard,
                                                                             f.first_seq)
        with self._read() as conn:
            return [_log_file(r) for r in conn.execute(query).all()]

    def expired_trail_files(self, shard: str | None = None,
                            archive_pending: bool = False) -> list[ExpiredFile]:
        """Expired log files by shard and first event (``archive_pending``: only those
        whose deletion from the archive is not confirmed yet)."""
        x = t.trail_expired_files.c
        conditions: list[ColumnElement[bool]] = [true()]
        if shard is not None:
            conditions.append(x.shard == shard)
        if archive_pending:
            conditions.append(x.archive_deleted.is_(False))
        query = (select(t.trail_expired_files).where(and_(*conditions))
                 .order_by(x.shard, x.first_seq))
        with self._read() as conn:
            rows = conn.execute(query).all()
        return [ExpiredFile(r.log_key, r.shard, int(r.first_seq), int(r.last_seq),
                            int(r.oldest_event), int(r.newest_event), r.last_hash,
                            int(r.cutoff), int(r.expired_on), bool(r.archive_deleted))
                for r in rows]

    def expire_trail_files(self, log_files: Sequence[LogFileRow], cutoff: int, now: int
                           ) -> Expired:
        """Record ``log_files`` as expired and delete their events from the store, in
        one transaction. A file whose last event is not in the store (so whose chain
        hash cannot be recorded) is left alone."""
        e, r = t.audit_events.c, t.audit_resources.c
        recorded: list[ExpiredFile] = []
        deleted = 0
        with self._write() as conn:
            for f in log_files:
                last_hash = conn.execute(select(e.event_hash).where(
                    e.shard == f.shard, e.shard_seq == f.last_seq)).scalar()
                if last_hash is None:
                    continue
                row = ExpiredFile(f.log_key, f.shard, f.first_seq, f.last_seq, f.oldest_event,
                                  f.newest_event, str(last_hash), cutoff, now, False)
                conn.execute(t.trail_expired_files.insert().values(**row.__dict__))
                in_file = and_(e.shard == f.shard, e.shard_seq >= f.first_seq,
                               e.shard_seq <= f.last_seq)
                conn.execute(delete(t.audit_resources).where(
                    r.event_seq.in_(select(e.seq).where(in_file))))
                deleted += conn.execute(delete(t.audit_events).where(in_file)).rowcount
                recorded.append(row)
        return Expired(recorded, deleted)

    def confirm_archive_deleted(self, log_keys: Sequence[str]) -> None:
        x = t.trail_expired_files.c
        if not log_keys:
            return
        with self._write() as conn:
            conn.execute(update(t.trail_expired_files).where(x.log_key.in_(list(log_keys)))
                         .values(archive_deleted=True))


def _int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]
