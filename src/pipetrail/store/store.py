"""The storage interface. Everything above this package reads and writes through it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Select, and_, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from pipetrail.config import Settings
from pipetrail.model.audit import AuditEvent
from pipetrail.model.clock import now_ms
from pipetrail.model.errors import NotFoundError, StoreError, ValidationError
from pipetrail.model.logs import LogEvent
from pipetrail.model.metrics import MetricDatum
from pipetrail.model.runs import Job, JobRun, RunState
from pipetrail.store import schema as t
from pipetrail.store.engine import make_engine, normalise_url, safe_url
from pipetrail.store.migrate import ensure_schema

MAX_PAGE = 10_000


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


class Store:
    """Durable state on SQLite or PostgreSQL. Thread-safe; share one per process."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    # -- plumbing -------------------------------------------------------------------

    def close(self) -> None:
        self.engine.dispose()

    @contextlib.contextmanager
    def _write(self) -> Iterator[Connection]:
        try:
            with (self.engine.connect().execution_options(sqlite_begin="IMMEDIATE") as conn,
                  conn.begin()):
                yield conn
        except DBAPIError as exc:
            raise StoreError(f"the store refused a write: {_short(exc)}") from None

    @contextlib.contextmanager
    def _read(self) -> Iterator[Connection]:
        try:
            with self.engine.connect() as conn:
                yield conn
        except DBAPIError as exc:
            raise StoreError(f"the store could not be read: {_short(exc)}") from None

    def _insert_ignore(self, table: Any) -> Any:
        dialect = postgresql if self.dialect == "postgresql" else sqlite
        return dialect.insert(table).on_conflict_do_nothing()

    # -- jobs and scripts -----------------------------------------------------------

    def ensure_job(self, job: Job) -> bool:
        """Create the job if it does not exist; True when it was created."""
        with self._write() as conn:
            result = conn.execute(
                self._insert_ignore(t.jobs).values(
                    name=job.name, created_on=job.created_on, script=job.script,
                    description=job.description,
                ).returning(t.jobs.c.name)
            )
            return result.first() is not None

    def get_job(self, name: str) -> Job:
        with self._read() as conn:
            row = conn.execute(select(t.jobs).where(t.jobs.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"no job named {name!r}")
        return Job(name=row.name, created_on=row.created_on, script=row.script,
                   description=row.description)

    def list_jobs(self) -> list[Job]:
        with self._read() as conn:
            rows = conn.execute(select(t.jobs).order_by(t.jobs.c.name)).all()
        return [Job(name=r.name, created_on=r.created_on, script=r.script,
                    description=r.description) for r in rows]

    def put_script(self, code_hash: str, content: bytes) -> None:
        with self._write() as conn:
            conn.execute(self._insert_ignore(t.scripts).values(
                code_hash=code_hash, content=content, stored_on=now_ms()))

    def get_script(self, code_hash: str) -> bytes:
        with self._read() as conn:
            content = conn.execute(
                select(t.scripts.c.content).where(t.scripts.c.code_hash == code_hash)
            ).scalar()
        if content is None:
            raise NotFoundError(f"no script stored with hash {code_hash}")
        return bytes(content)

    # -- runs -----------------------------------------------------------------------

    def begin_run(self, job: Job, content: bytes, run: JobRun) -> bool:
        """In one transaction: create the job if new, store the script by its hash,
        create the run. True when the job was created."""
        with self._write() as conn:
            created = conn.execute(self._insert_ignore(t.jobs).values(
                name=job.name, created_on=job.created_on, script=job.script,
                description=job.description).returning(t.jobs.c.name)).first() is not None
            conn.execute(self._insert_ignore(t.scripts).values(
                code_hash=run.code_hash, content=content, stored_on=now_ms()))
            conn.execute(insert(t.runs).values(**_run_row(run)))
        return bool(created)

    def create_run(self, run: JobRun) -> None:
        with self._write() as conn:
            conn.execute(insert(t.runs).values(**_run_row(run)))

    def update_run(self, run: JobRun) -> None:
        row = _run_row(run)
        run_id = row.pop("run_id")
        with self._write() as conn:
            result = conn.execute(update(t.runs).where(t.runs.c.run_id == run_id).values(**row))
        if not result.rowcount:
            raise NotFoundError(f"no job run {run_id}")

    def get_run(self, run_id: str) -> JobRun:
        """A run by its id, or by a unique prefix of at least 6 characters."""
        if not run_id:
            raise ValidationError("a run id is required")
        with self._read() as conn:
            row = conn.execute(select(t.runs).where(t.runs.c.run_id == run_id)).first()
            if row is None and len(run_id) >= 6:
                rows = conn.execute(
                    select(t.runs)
                    .where(t.runs.c.run_id >= run_id, t.runs.c.run_id < run_id + "\uffff")
                    .limit(2)
                ).all()
                if len(rows) > 1:
                    raise ValidationError(f"run id prefix {run_id!r} matches several runs")
                row = rows[0] if rows else None
        if row is None:
            raise NotFoundError(f"no job run {run_id}")
        return _run_from_row(row)

    def list_runs(self, job_name: str | None = None, state: str | None = None,
                  limit: int = 50) -> list[JobRun]:
        query = select(t.runs).order_by(t.runs.c.started_on.desc(), t.runs.c.run_id)
        if job_name:
            query = query.where(t.runs.c.job_name == job_name)
        if state:
            query = query.where(t.runs.c.state == state)
        with self._read() as conn:
            rows = conn.execute(query.limit(min(limit, MAX_PAGE))).all()
        return [_run_from_row(r) for r in rows]

    def active_runs(self) -> list[JobRun]:
        active = [s.value for s in RunState if not s.terminal]
        with self._read() as conn:
            rows = conn.execute(select(t.runs).where(t.runs.c.state.in_(active))).all()
        return [_run_from_row(r) for r in rows]

    # -- logs -----------------------------------------------------------------------

    def append_log_events(self, events: Sequence[LogEvent]) -> None:
        if not events:
            return
        ingested = now_ms()
        rows = [
            {"group_name": e.group, "stream_name": e.stream, "timestamp": e.timestamp,
             "ingestion_time": e.ingestion_time or ingested, "message": e.message}
            for e in events
        ]
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

    # -- metrics --------------------------------------------------------------------

    def put_metric_data(self, datums: Sequence[MetricDatum]) -> None:
        if not datums:
            return
        for datum in datums:
            datum.validate()
        rows = [
            {"namespace": d.namespace, "name": d.name, "dimensions": d.dimensions_key,
             "run_id": d.run_id, "timestamp": d.timestamp, "value": d.value, "unit": d.unit}
            for d in datums
        ]
        with self._write() as conn:
            conn.execute(insert(t.metric_data), rows)

    def get_run_metrics(self, run_id: str, name: str | None = None) -> list[MetricDatum]:
        c = t.metric_data.c
        query = select(t.metric_data).where(c.run_id == run_id)
        if name is not None:
            query = query.where(c.name == name)
        with self._read() as conn:
            rows = conn.execute(query.order_by(c.name, c.timestamp, c.id)).all()
        return [_datum_from_row(r) for r in rows]

    def get_metric_series(self, namespace: str, name: str, dimensions: dict[str, str] | None,
                          start: int, end: int) -> list[MetricDatum]:
        c = t.metric_data.c
        query = select(t.metric_data).where(
            c.namespace == namespace, c.name == name, c.timestamp >= start, c.timestamp < end)
        if dimensions is not None:
            key = orjson.dumps(dimensions, option=orjson.OPT_SORT_KEYS).decode()
            query = query.where(c.dimensions == key)
        with self._read() as conn:
            rows = conn.execute(query.order_by(c.timestamp, c.id)).all()
        return [_datum_from_row(r) for r in rows]

    # -- audit events ---------------------------------------------------------------

    def append_audit_events(self, events: Sequence[AuditEvent]) -> int:
        """Store events (validated first, all or none); an event id already stored is
        skipped, so delivering the same event twice stores it once. Returns how many
        were new."""
        if not events:
            return 0
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
        resources = {e.event_id: (e.event_time_ms, [r.arn for r in e.resources]
                                  + ([e.dataset] if e.dataset else []))
                     for e in events}
        with self._write() as conn:
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


def open_store(settings: Settings) -> Store:
    """Open (and on first use create or upgrade) the store the settings name."""
    url = settings.effective_database_url
    if settings.database_url is None:
        settings.ensure_home()
    engine = make_engine(url)
    try:
        ensure_schema(engine)
    except DBAPIError as exc:
        engine.dispose()
        raise StoreError(
            f"cannot open the store at {safe_url(normalise_url(url))}: {_short(exc)}"
        ) from None
    return Store(engine)


def _short(exc: DBAPIError) -> str:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def _run_row(run: JobRun) -> dict[str, Any]:
    return {
        "run_id": run.run_id, "job_name": run.job_name, "state": run.state.value,
        "attempt": run.attempt, "arguments": orjson.dumps(run.arguments).decode(),
        "started_on": run.started_on, "completed_on": run.completed_on,
        "exit_code": run.exit_code, "error_message": run.error_message,
        "principal": run.principal, "code_hash": run.code_hash, "script": run.script,
        "host": run.host, "pid": run.pid, "timeout": run.timeout,
        "details": orjson.dumps(run.details).decode(),
    }


def _run_from_row(row: Any) -> JobRun:
    return JobRun(
        run_id=row.run_id, job_name=row.job_name, state=RunState(row.state),
        started_on=row.started_on, attempt=row.attempt, arguments=orjson.loads(row.arguments),
        completed_on=row.completed_on, exit_code=row.exit_code,
        error_message=row.error_message, principal=row.principal, code_hash=row.code_hash,
        script=row.script, host=row.host, pid=row.pid, timeout=row.timeout,
        details=orjson.loads(row.details),
    )


def _log_from_row(row: Any) -> LogEvent:
    return LogEvent(group=row.group_name, stream=row.stream_name, timestamp=row.timestamp,
                    message=row.message, ingestion_time=row.ingestion_time, event_id=row.id)


def _datum_from_row(row: Any) -> MetricDatum:
    return MetricDatum(
        namespace=row.namespace, name=row.name, timestamp=row.timestamp, value=row.value,
        unit=row.unit, dimensions=orjson.loads(row.dimensions), run_id=row.run_id,
    )
