"""Batches of records stored exactly once, whatever number of times they are delivered."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection

from pipetrail.model.batches import RecordBatch
from pipetrail.model.clock import now_ms
from pipetrail.model.runs import JobRun, merge_runs
from pipetrail.store import schema as t
from pipetrail.store.audit import AuditStore, audit_rows
from pipetrail.store.logs import log_rows
from pipetrail.store.metrics import metric_rows
from pipetrail.store.runs import _run_from_row, _run_row


class IngestStore(AuditStore):
    def ingest_batches(self, batches: Sequence[RecordBatch]) -> list[str]:
        """Store the batches not stored before, all in one transaction.

        Every record is validated before anything is written. Returns the ids of the
        batches that were new; the others were skipped whole.
        """
        prepared = [(b, audit_rows(b.events)) for b in batches]
        for batch in batches:
            for datum in batch.metrics:
                datum.validate()
        if not batches:
            return []
        received = now_ms()
        new: list[str] = []
        with self._write() as conn:
            for batch, (events, resources) in prepared:
                fresh = conn.execute(self._insert_ignore(t.ingest_batches).values(
                    batch_id=batch.batch_id, received_on=received, records=batch.size,
                ).returning(t.ingest_batches.c.batch_id)).first()
                if fresh is None:
                    continue
                new.append(batch.batch_id)
                self._store_batch(conn, batch, events, resources, received)
        return new

    def _store_batch(self, conn: Connection, batch: RecordBatch,
                     events: list[dict[str, Any]], resources: dict[str, tuple[int, list[str]]],
                     received: int) -> None:
        for job in batch.jobs:
            conn.execute(self._insert_ignore(t.jobs).values(
                name=job.name, created_on=job.created_on, script=job.script,
                description=job.description))
        for script in batch.scripts:
            conn.execute(self._insert_ignore(t.scripts).values(
                code_hash=script.code_hash, content=script.content, stored_on=received))
        for run in batch.runs:
            self._upsert_run(conn, run)
        if batch.logs:
            conn.execute(insert(t.log_events), log_rows(batch.logs, received))
        if batch.metrics:
            conn.execute(insert(t.metric_data), metric_rows(batch.metrics))
        if events:
            self._insert_audit(conn, events, resources)

    def _upsert_run(self, conn: Connection, run: JobRun) -> None:
        c = t.runs.c
        created = conn.execute(self._insert_ignore(t.runs).values(**_run_row(run))
                               .returning(c.run_id)).first()
        if created is not None:
            return
        query = select(t.runs).where(c.run_id == run.run_id)
        if self.dialect == "postgresql":
            query = query.with_for_update()
        stored = _run_from_row(conn.execute(query).one())
        row = _run_row(merge_runs(stored, run))
        del row["run_id"], row["job_name"]
        conn.execute(update(t.runs).where(c.run_id == run.run_id).values(**row))

    def prune_ingest_batches(self, older_than: int) -> int:
        """Forget batch ids received before ``older_than`` (ms); returns how many."""
        c = t.ingest_batches.c
        with self._write() as conn:
            return int(conn.execute(delete(t.ingest_batches)
                                    .where(c.received_on < older_than)).rowcount or 0)

    def count_ingest_batches(self) -> int:
        from sqlalchemy import func

        with self._read() as conn:
            return int(conn.execute(select(func.count()).select_from(t.ingest_batches))
                       .scalar_one())
