"""Jobs, their scripts (stored by hash) and job runs."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import func, insert, select, update

from pipetrail.model.clock import now_ms
from pipetrail.model.errors import NotFoundError, ValidationError
from pipetrail.model.runs import Job, JobRun, RunState
from pipetrail.store import schema as t
from pipetrail.store.base import MAX_PAGE, StoreBase


class RunsStore(StoreBase):
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

    def count_runs_by_state(self) -> dict[str, int]:
        """How many runs are in each state (states without runs are absent)."""
        c = t.runs.c
        with self._read() as conn:
            rows = conn.execute(select(c.state, func.count()).group_by(c.state)).all()
        return {str(state): int(count) for state, count in rows}

    def active_runs(self) -> list[JobRun]:
        active = [s.value for s in RunState if not s.terminal]
        with self._read() as conn:
            rows = conn.execute(select(t.runs).where(t.runs.c.state.in_(active))).all()
        return [_run_from_row(r) for r in rows]


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
